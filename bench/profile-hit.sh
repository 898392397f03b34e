#!/usr/bin/env bash
# Where a cache hit spends its time: a JFR recording (settings=profile) of the service while
# wrk loads cached GET /products/{id} (random ids, all hits), summarized as the top frames by
# self and by inclusive share, the samples per thread kind and the share of named parts
# (Redis script, Lettuce, Micrometer observations, logging, ...) by bench/py/jfr_top.py.
#
# One service with its own redis-server on free ports, N products loaded into Redis, a warm-up
# of WARM_S, then PROFILE_S of recording under load. The summary is printed and written to
# OUT (default bench/results/profile-hit.txt); the recording is kept next to it as
# profile-hit.jfr (open it with JDK Mission Control, or `jfr print`).
# To see what is under one frame: jfr print --stack-depth 256 --events jdk.ExecutionSample FILE
#   | python3 bench/py/jfr_below.py 'DispatcherServlet.doDispatch$' 2
#
# Usage: bench/profile-hit.sh [LABEL]
# Env:   N=2000 THREADS=2 CONNS=64 WARM_S=30 PROFILE_S=20 TOP=25 OUT=bench/results/profile-hit.txt
#        WRK_SCRIPT=get-random.lua (mix.lua profiles the 95/5 mix instead of hits, put-random.lua
#        PUTs alone)
#        BENCH_JAVA (a java binary, e.g. /usr/lib/jvm/temurin-25-jdk-amd64/bin/java)
#        APP_JAR (profile this jar instead of building the checkout)
#        APP_ENV="VIRTUAL_THREADS=true ..." (extra environment of the service)
#        BENCH_JAVA_OPTS (default: deeper JFR stacks, -XX:FlightRecorderOptions:stackdepth=256)
#        JFR_SETTINGS=profile (a name or a .jfc file) SAMPLE_EVENT=jdk.ExecutionSample (the samples
#        summarized). JDK 25's CPU-time sampler also sees native code (SQLite's JNI calls), which
#        jdk.ExecutionSample skips:
#          $J25/bin/jfr configure --input profile jdk.CPUTimeSample#enabled=true \
#            jdk.CPUTimeSample#throttle=5ms --output /tmp/cpu.jfc
#          BENCH_JAVA=$J25/bin/java JFR_SETTINGS=/tmp/cpu.jfc SAMPLE_EVENT=jdk.CPUTimeSample ...
# Also prints the JVM's CPU per thread kind over the recording (from /proc: JIT compilers and GC
# included), and with WRK_SCRIPT=mix.lua or put-random.lua the samples by cause (bench/py/jfr_mix.py).
source "$(dirname "$0")/lib.sh"

LABEL="${1:-}"
N="${N:-2000}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-64}"
WARM_S="${WARM_S:-30}"
PROFILE_S="${PROFILE_S:-20}"
TOP="${TOP:-25}"
OUT="${OUT:-$BENCH_DIR/results/profile-hit.txt}"
export BENCH_JAVA_OPTS="${BENCH_JAVA_OPTS:--XX:FlightRecorderOptions:stackdepth=256}"

bench_init
bench_need wrk wrk
bench_need_service
bench_need python3 python3
bench_need java openjdk-17-jdk-headless
if [ -n "${BENCH_JAVA:-}" ]; then
	PATH="$(dirname "$BENCH_JAVA"):$PATH"
fi
bench_need jcmd openjdk-17-jdk-headless
bench_need jfr openjdk-17-jdk-headless

if [ -n "${APP_JAR:-}" ]; then
	# A jar built elsewhere (e.g. of an older commit, to profile before and after).
	bench_jar() { printf '%s\n' "$APP_JAR"; }
fi
bench_single_service
bench_start_redis "$REDIS_PORT"
# shellcheck disable=SC2086
bench_start_app "$JAR" "$API_PORT" "$REDIS_PORT" "$DB" "$T/app.log" ${APP_ENV:-}
# Each thread's id, name and CPU time (utime + stime, clock ticks), for bench/py/proc_threads.py.
threads_cpu() {
	local d
	for d in /proc/"$APP_PID"/task/*; do
		printf '%s\t%s\t%s\n' "${d##*/}" "$(cat "$d/comm" 2>/dev/null)" \
			"$(sed 's/^.*) //' "$d/stat" 2>/dev/null | awk '{ print $12 + $13 }')"
	done
}
log "seeding $N products"
# On a loaded machine a create can time out: profile the ids that exist (a missing one is a
# cached 404, a tiny share of the requests).
(bench_seed "$API_PORT" "$N" "$T/ids.txt") || log "seeding: not every create succeeded; going on"
bench_fill_cache "$API_PORT" "$N"

run_wrk() {
	local name="$1" secs="$2"
	wrk -t"$THREADS" -c"$CONNS" -d"${secs}s" --timeout 5s --latency -s "$BENCH_DIR/wrk/${WRK_SCRIPT:-get-random.lua}" "$BASE" \
		-- 1 "$N" "$name" >"$T/wrk-$name.txt" 2>&1 || true
	grep -q '^RESULT ' "$T/wrk-$name.txt" || { cat "$T/wrk-$name.txt" >&2; die "wrk ($name) printed no RESULT line"; }
	log "$name: $(grep '^RESULT ' "$T/wrk-$name.txt" | cut -d' ' -f3-8)"
}

log "warm-up ${WARM_S} s (not recorded)"
run_wrk warm "$WARM_S"
bench_wait_quiet
load_before="$(bench_loadavg)"
log "recording ${PROFILE_S} s under load"
threads_cpu >"$T/threads-before.tsv"
jcmd "$APP_PID" JFR.start name=hit settings="${JFR_SETTINGS:-profile}" duration="${PROFILE_S}s" filename="$T/hit.jfr" >/dev/null
run_wrk profiled $((PROFILE_S + 1))
threads_cpu >"$T/threads-after.tsv"
for _ in $(seq 1 50); do
	[ -s "$T/hit.jfr" ] && ! jcmd "$APP_PID" JFR.check name=hit 2>/dev/null | grep -q 'name=hit' && break
	sleep 0.2
done
[ -s "$T/hit.jfr" ] || die "no recording written"

mkdir -p "$(dirname "$OUT")"
COMMIT="$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)"
[ -z "${APP_JAR:-}" ] || COMMIT="(not this checkout: $APP_JAR)"
{
	echo "bench/profile-hit.sh ${LABEL:+($LABEL) } $(date -u +%Y-%m-%dT%H:%MZ)  commit $COMMIT  N=$N  wrk -t$THREADS -c$CONNS  JFR settings=${JFR_SETTINGS:-profile} ${PROFILE_S}s"
	echo "$(java -version 2>&1 | head -n 1); JVM flags: $BENCH_JAVA_OPTS; service env: ${APP_ENV:-none}"
	echo "under the recording: $(grep '^RESULT ' "$T/wrk-profiled.txt" | cut -d' ' -f3-8); load avg before $load_before"
	echo "JFR settings: ${JFR_SETTINGS:-profile}; samples: ${SAMPLE_EVENT:-jdk.ExecutionSample}"
	python3 "$BENCH_DIR/py/proc_threads.py" "$T/threads-before.tsv" "$T/threads-after.tsv" "$(getconf CLK_TCK)" | tee "$T/threads.txt"
	jfr print --stack-depth 256 --events "${SAMPLE_EVENT:-jdk.ExecutionSample}" "$T/hit.jfr" >"$T/samples.txt"
	# mix.lua sends a PUT for 5 % of the requests, put-random.lua for all of them.
	case "${WRK_SCRIPT:-}" in
	mix.lua) requests_per_put=20 ;;
	put-random.lua) requests_per_put=1 ;;
	*) requests_per_put= ;;
	esac
	if [ -n "$requests_per_put" ]; then
		echo
		python3 "$BENCH_DIR/py/jfr_mix.py" "$(sed -n 's/^java_ms=//p' "$T/threads.txt")" \
			"$(($(bench_wrk_field "$T/wrk-profiled.txt" requests) / requests_per_put))" <"$T/samples.txt"
	fi
	echo
	python3 "$BENCH_DIR/py/jfr_top.py" "$TOP" <"$T/samples.txt"
} | tee "$OUT"
cp "$T/hit.jfr" "${OUT%.txt}.jfr"
log "summary: $OUT; recording: ${OUT%.txt}.jfr"
