#!/usr/bin/env bash
# Resident memory of the service under the 95/5 mix (bench/wrk/mix.lua: 95 % GET by id, 5 %
# PUT), with the JVM flags of the container image against the flags it had before, on JDK 25
# with an AOT cache as the image runs it (extracted layout, a training run per flag set, since
# the JVM ignores a cache made with other GC flags).
#
# Both variants emulate the compose file's mem_limit (768 MB) with -XX:MaxRAM=768m: in the
# container the JVM sizes its heap from the cgroup limit, and with 2 CPUs and less than
# 1792 MB it picks SerialGC by itself, which "before" therefore names explicitly (on this
# larger host it would pick G1).
#
# Per variant: start, seed-free (the products are seeded once), fill the cache, WARM_S of the
# mix (not measured), then MEASURE_S of the mix while VmRSS is read from /proc/PID/status every
# second; reports req/s, p50/p99, 5xx, the peak and mean VmRSS during the measured load, its
# anonymous/file split at the end, and VmHWM (the peak since the start, start-up included).
#
# Usage: bench/memory.sh
# Env:   N=2000 THREADS=2 CONNS=64 WARM_S=30 MEASURE_S=30 BENCH_QUIET_WAIT=60 BENCH_KEEP=0
#        JDK25=/usr/lib/jvm/temurin-25-jdk-amd64
#        FLAGS_BEFORE, FLAGS_AFTER (defaults below; AFTER = the Dockerfile's ENTRYPOINT)
#        FLAGS_TRY (a third variant "try", measured last, MALLOC_ARENA_MAX=2 like "after")
#        TRY_AOT=0 (starts "try" without a training run or an AOT cache: the JDK's own CDS
#        archive only, to see what the cache itself holds resident)
#        NMT=1 (adds -XX:NativeMemoryTracking=summary to every variant and prints, for each,
#        what the JVM has committed by category at the end of the measured load)
source "$(dirname "$0")/lib.sh"

N="${N:-2000}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-64}"
WARM_S="${WARM_S:-30}"
MEASURE_S="${MEASURE_S:-30}"
JDK25="${JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}"
CONTAINER_RAM="-XX:MaxRAM=768m"
# The image before this change: -XX:MaxRAMPercentage=60 (and Serial, picked by the JVM in 768 MB).
FLAGS_BEFORE="${FLAGS_BEFORE:--XX:+UseSerialGC -XX:MaxRAMPercentage=60.0 -XX:+ExitOnOutOfMemoryError}"
# Keep in step with the Dockerfile's ENTRYPOINT and training run.
FLAGS_AFTER="${FLAGS_AFTER:--XX:+UseSerialGC -XX:MaxRAMPercentage=40.0 -Xss512k -XX:ReservedCodeCacheSize=64m -XX:MaxMetaspaceSize=192m -XX:+ExitOnOutOfMemoryError}"
# The image sets MALLOC_ARENA_MAX=2 for "after".

bench_init
bench_need wrk wrk
bench_need_service
[ -x "$JDK25/bin/java" ] || die "no JDK 25 at $JDK25 (set JDK25)"

bench_single_service
MANAGEMENT_PORT="$(bench_free_port)"
bench_start_redis "$REDIS_PORT"
APP="$T/x25/$(basename "$JAR")"
"$JDK25/bin/java" -Djarmode=tools -jar "$JAR" extract --destination "$T/x25" >"$T/extract.log" 2>&1 \
	|| { cat "$T/extract.log" >&2; die "extracting the jar failed"; }

# exec: started with `&`, the background job's pid is then the JVM's own (its CPU time is
# read, and it is what gets killed), not a subshell's.
app_env() {
	exec env -u API_KEY -u JAVA_TOOL_OPTIONS API_PORT="$API_PORT" MANAGEMENT_PORT="$MANAGEMENT_PORT" \
		REDIS_HOST=127.0.0.1 REDIS_PORT="$REDIS_PORT" DATABASE_URL="jdbc:sqlite:$DB" "$@"
}

# start NAME ARENAS FLAGS: a training run with FLAGS, then the service with FLAGS and the cache.
start() {
	local name="$1" arenas="$2" flags="$3" i
	local cache="-XX:AOTCache=$T/$name.aot"
	[ "${NMT:-0}" = 0 ] || flags="$flags -XX:NativeMemoryTracking=summary"
	if [ "$name" = try ] && [ "${TRY_AOT:-1}" = 0 ]; then
		cache=""
	else
		log "$name: training run ($flags)"
		# shellcheck disable=SC2086
		(app_env MALLOC_ARENA_MAX="$arenas" "$JDK25/bin/java" $CONTAINER_RAM $flags -XX:AOTCacheOutput="$T/$name.aot" \
			-Dspring.context.exit=onRefresh -jar "$APP" >"$T/train-$name.log" 2>&1) \
			|| { tail -n 30 "$T/train-$name.log" >&2; die "training run $name failed"; }
	fi
	# shellcheck disable=SC2086
	app_env MALLOC_ARENA_MAX="$arenas" "$JDK25/bin/java" $CONTAINER_RAM $flags $cache \
		-jar "$APP" >"$T/app-$name.log" 2>&1 &
	APP_PID=$!
	bench_track "$APP_PID"
	for i in $(seq 1 1500); do
		curl -fsS -m 2 -o /dev/null "$BASE/health" 2>/dev/null && return 0
		kill -0 "$APP_PID" 2>/dev/null || { tail -n 30 "$T/app-$name.log" >&2; die "$name exited during start-up"; }
		sleep 0.2
	done
	die "$name: no healthy /health within 300 s"
}

kib() { awk -v k="$1" '/^'"$1"':/ { print $2 }' "/proc/$2/status"; }

# measure NAME: WARM_S + MEASURE_S of the mix on the running service, sampling VmRSS.
measure() {
	local name="$1" pid="$APP_PID"
	bench_fill_cache "$API_PORT" "$N"
	log "$name: warm-up ${WARM_S} s"
	wrk -t"$THREADS" -c"$CONNS" -d"${WARM_S}s" --timeout 5s -s "$BENCH_DIR/wrk/mix.lua" "$BASE" -- 1 "$N" "warm-$name" \
		>"$T/wrk-warm-$name.txt" 2>&1 || true
	bench_wait_quiet
	log "$name: measured ${MEASURE_S} s (load $(bench_loadavg))"
	wrk -t"$THREADS" -c"$CONNS" -d"${MEASURE_S}s" --timeout 5s --latency -s "$BENCH_DIR/wrk/mix.lua" "$BASE" -- 1 "$N" "$name" \
		>"$T/wrk-$name.txt" 2>&1 &
	local wpid=$!
	: >"$T/rss-$name"
	while kill -0 "$wpid" 2>/dev/null; do
		kib VmRSS "$pid" >>"$T/rss-$name"
		sleep 1
	done
	wait "$wpid" || true
	grep -q '^RESULT ' "$T/wrk-$name.txt" || { cat "$T/wrk-$name.txt" >&2; die "wrk ($name) printed no RESULT line"; }
	local f="$T/wrk-$name.txt"
	printf '%s %s %s %s %s %s %s %s %s %s\n' "$name" \
		"$(awk -v c="$(bench_wrk_field "$f" requests)" -v d="$(bench_wrk_field "$f" duration_s)" 'BEGIN { printf "%.0f", c / d }')" \
		"$(bench_wrk_field "$f" p50_ms)" "$(bench_wrk_field "$f" p99_ms)" "$(bench_wrk_field "$f" c5xx)" \
		"$(sort -n "$T/rss-$name" | tail -n 1 | awk '{ printf "%.0f", $1 / 1024 }')" \
		"$(awk '{ s += $1 } END { printf "%.0f", s / NR / 1024 }' "$T/rss-$name")" \
		"$(awk '{ printf "%.0f", $1 / 1024 }' <<<"$(kib RssAnon "$pid")")" \
		"$(awk '{ printf "%.0f", $1 / 1024 }' <<<"$(kib RssFile "$pid")")" \
		"$(awk '{ printf "%.0f", $1 / 1024 }' <<<"$(kib VmHWM "$pid")")" >>"$T/results"
	log "$name: $(tail -n 1 "$T/results")"
	if [ "${NMT:-0}" != 0 ]; then
		# One line per category: committed MB (Java Heap, Class, Thread, Code, GC, ...).
		"$JDK25/bin/jcmd" "$pid" VM.native_memory summary scale=MB >"$T/nmt-$name.txt" 2>&1 || true
		sed -n 's/^-  *\(.*\) (reserved=[0-9]*MB, committed=\([0-9]*\)MB.*/\1 \2/p; s/^Total: reserved=[0-9]*MB, committed=\([0-9]*\)MB.*/Total \1/p' \
			"$T/nmt-$name.txt" | awk -v n="$name" '{ c = $NF; $NF = ""; printf "%s=%s ", $0, c } END { print "" }' \
			| sed "s/^/NMT $name (committed MB): /" >>"$T/nmt-summary"
	fi
	bench_kill9 "$pid"
}

# One start with the default flags seeds the products (the rows are shared by both variants).
: >"$T/results"
start before 8 "$FLAGS_BEFORE"
log "seeding $N products"
bench_seed "$API_PORT" "$N" "$T/ids.txt"
measure before
start after 2 "$FLAGS_AFTER"
measure after
if [ -n "${FLAGS_TRY:-}" ]; then
	start try 2 "$FLAGS_TRY"
	measure try
fi

echo
echo "RESIDENT MEMORY UNDER THE 95/5 MIX  $(date -u +%Y-%m-%dT%H:%MZ)  wrk -t$THREADS -c$CONNS, ${WARM_S} s warm-up + ${MEASURE_S} s measured, ids 1..$N  commit $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "JDK: $("$JDK25/bin/java" -version 2>&1 | sed -n 2p), AOT cache, $CONTAINER_RAM (the compose mem_limit)"
echo "before: $FLAGS_BEFORE (MALLOC_ARENA_MAX unset)"
echo "after:  $FLAGS_AFTER MALLOC_ARENA_MAX=2"
[ -z "${FLAGS_TRY:-}" ] || echo "try:    $FLAGS_TRY MALLOC_ARENA_MAX=2$([ "${TRY_AOT:-1}" = 1 ] || echo ', no AOT cache (TRY_AOT=0)')"
printf '%-8s %8s %8s %8s %5s %12s %12s %9s %9s %10s\n' variant "req/s" "p50 ms" "p99 ms" 5xx "peak RSS MB" "mean RSS MB" "anon MB" "file MB" "VmHWM MB"
while read -r n rps p50 p99 e5 peak mean anon file hwm; do
	printf '%-8s %8s %8s %8s %5s %12s %12s %9s %9s %10s\n' "$n" "$rps" "$p50" "$p99" "$e5" "$peak" "$mean" "$anon" "$file" "$hwm"
	echo "MEMORY variant=$n rps=$rps p99_ms=$p99 5xx=$e5 peak_rss_mb=$peak mean_rss_mb=$mean hwm_mb=$hwm" >>"$T/summary"
done <"$T/results"
cat "$T/summary"
[ ! -f "$T/nmt-summary" ] || cat "$T/nmt-summary"
bench_load_note
