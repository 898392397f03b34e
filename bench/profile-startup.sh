#!/usr/bin/env bash
# Where a start-up spends its CPU: the service as the image runs it (JDK 25, Spring Boot's
# extracted layout, an AOT cache from a training run, the image's JVM flags, -XX:MaxRAM as the
# compose mem_limit) started with a JFR recording (settings=profile) until GET /health answers
# 200; then stopped (the recording is written at exit) and summarized: wall and CPU seconds to
# healthy (and, before it, the same start without a recording), the CPU samples per thread, the share of named parts (bench/py/jfr_startup.py) and
# the top frames by inclusive share (bench/py/jfr_top.py).
#
# The database is migrated by the training run first, so Flyway only validates (a restart).
# Usage: bench/profile-startup.sh
# Env:   JDK25=/usr/lib/jvm/temurin-25-jdk-amd64 OUT=bench/results/profile-startup.txt
#        FLAGS (default: the Dockerfile's ENTRYPOINT flags) BENCH_KEEP=0
source "$(dirname "$0")/lib.sh"

JDK25="${JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}"
OUT="${OUT:-$BENCH_DIR/results/profile-startup.txt}"
# Keep in step with the Dockerfile's ENTRYPOINT.
FLAGS="${FLAGS:--XX:+UseSerialGC -XX:MaxRAMPercentage=40.0 -Xss512k -XX:ReservedCodeCacheSize=64m -XX:MaxMetaspaceSize=192m -XX:+ExitOnOutOfMemoryError}"

bench_init
bench_need_service
bench_need python3 python3
[ -x "$JDK25/bin/java" ] || die "no JDK 25 at $JDK25 (set JDK25)"

bench_single_service
bench_start_redis "$REDIS_PORT"
APP="$T/x25/$(basename "$JAR")"
"$JDK25/bin/java" -Djarmode=tools -jar "$JAR" extract --destination "$T/x25" >"$T/extract.log" 2>&1 \
	|| { cat "$T/extract.log" >&2; die "extracting the jar failed"; }

# JFR is a module of its own: a recording at run time adds it, and the JVM refuses an AOT cache
# trained without it. Every run here names it, so that the recorded start uses the cache too.
JFR_MODULE="--add-modules jdk.jfr"

app_env() {
	exec env -u API_KEY -u JAVA_TOOL_OPTIONS API_PORT="$API_PORT" MANAGEMENT_PORT="$(bench_free_port)" \
		REDIS_HOST=127.0.0.1 REDIS_PORT="$REDIS_PORT" DATABASE_URL="jdbc:sqlite:$DB" MALLOC_ARENA_MAX=2 "$@"
}

log "training run (AOT cache)"
# shellcheck disable=SC2086
(app_env "$JDK25/bin/java" -XX:MaxRAM=768m $FLAGS $JFR_MODULE -XX:AOTCacheOutput="$T/app.aot" -Dspring.context.exit=onRefresh \
	-jar "$APP" >"$T/train.log" 2>&1) || { tail -n 30 "$T/train.log" >&2; die "the training run failed"; }
bench_wait_quiet

# timed_start NAME JVM-ARGS...: starts the service, waits for GET /health 200, sets WALL and
# CPU (the JVM's user + system seconds by then), and stops it with SIGTERM.
timed_start() {
	local name="$1" start_ns
	shift
	log "start: $name (load $(bench_loadavg))"
	start_ns="$(date +%s%N)"
	# shellcheck disable=SC2086
	app_env "$JDK25/bin/java" -XX:MaxRAM=768m $FLAGS $JFR_MODULE -XX:AOTCache="$T/app.aot" "$@" -jar "$APP" >"$T/app-$name.log" 2>&1 &
	APP_PID=$!
	bench_track "$APP_PID"
	until curl -fsS -m 1 -o /dev/null "$BASE/health" 2>/dev/null; do
		kill -0 "$APP_PID" 2>/dev/null || { tail -n 30 "$T/app-$name.log" >&2; die "the service exited during start-up"; }
		sleep 0.05
	done
	HEALTHY_AT="$(date +%H:%M:%S.%N | cut -c1-12)"
	WALL="$(awk -v a="$start_ns" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')"
	CPU="$(awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$APP_PID/stat")"
	log "$name: healthy after $WALL s (JVM CPU $CPU s)"
	kill -TERM "$APP_PID"
	wait "$APP_PID" 2>/dev/null || true
	bench_untrack "$APP_PID"
	if grep -qi 'AOT cache.*\(disabled\|mismatch\|cannot\|error\)\|\[aot\].*\(error\|disabled\)' "$T/app-$name.log"; then
		log "$name: the JVM did not use the AOT cache: $(grep -i aot "$T/app-$name.log" | head -n 2)"
	fi
}

timed_start plain
PLAIN_WALL="$WALL"
PLAIN_CPU="$CPU"
# The recording goes on during the shutdown; the summary counts the samples up to healthy only.
timed_start recorded -XX:StartFlightRecording=filename="$T/startup.jfr",settings=profile,dumponexit=true
[ -s "$T/startup.jfr" ] || die "no recording at $T/startup.jfr (see $T/app-recorded.log)"

mkdir -p "$(dirname "$OUT")"
{
	echo "bench/profile-startup.sh  $(date -u +%Y-%m-%dT%H:%MZ)  commit $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "$("$JDK25/bin/java" -version 2>&1 | sed -n 2p); AOT cache; -XX:MaxRAM=768m $FLAGS"
	echo "healthy (first GET /health 200) without a recording: ${PLAIN_WALL} s wall, ${PLAIN_CPU} s of the JVM's CPU; $(grep -o 'Started .* seconds (process running for [0-9.]*)' "$T/app-plain.log" | head -n 1)"
	echo "healthy with the recording:                    ${WALL} s wall, ${CPU} s of the JVM's CPU; $(grep -o 'Started .* seconds (process running for [0-9.]*)' "$T/app-recorded.log" | head -n 1)"
	"$JDK25/bin/jfr" print --stack-depth 256 --events jdk.ExecutionSample "$T/startup.jfr" \
		| python3 "$BENCH_DIR/py/jfr_startup.py" "$HEALTHY_AT"
	bench_load_note
} | tee "$OUT"
