#!/usr/bin/env bash
# Redis hits of several variants of the service side by side, in one run, next to the ceiling:
# to decide a change of the hit path (a jar, a JDK, a setting) by measurement.
#
# One private redis-server and one SQLite file with N products; one instance per variant, all
# on that Redis, all warmed up; then, ROUNDS times, the ceiling (GET /actuator/info on the
# first variant's management port, or on its API port with CEILING_ON_API_PORT=1) and
# GET /products/{id} (random ids, all hits) on each variant, alternated so that the machine's
# drift weighs on all alike. Prints req/s, p50, p99 and each variant's ratio to the ceiling;
# writes the table to OUT (bench/results/hit-variants.txt).
#
# A variant is LABEL=JAVA|JAR|ENV (ENV: space-separated assignments; JAVA and JAR may be empty
# for `java` on PATH and the checkout's jar).
# Usage: bench/hit-variants.sh 'platform=||' 'virtual=||VIRTUAL_THREADS=true'
#        bench/hit-variants.sh "jdk17=||" "jdk25=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java||"
#        bench/hit-variants.sh "before=|/tmp/old.jar|" "after=||"
# Env:   N=10000 THREADS=2 CONNS=64 WARM_S=30 PHASE_S=10 ROUNDS=3 OUT=bench/results/hit-variants.txt
#        CEILING_ON_API_PORT=1: the first variant serves the actuator on its API port
#        (MANAGEMENT_PORT = API_PORT), so that the ceiling goes through the same connector,
#        filters and DispatcherServlet as the hits (issue #10's definition, written before the
#        actuator had a port of its own)
source "$(dirname "$0")/lib.sh"

N="${N:-10000}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-64}"
WARM_S="${WARM_S:-30}"
PHASE_S="${PHASE_S:-10}"
ROUNDS="${ROUNDS:-3}"
OUT="${OUT:-$BENCH_DIR/results/hit-variants.txt}"
[ "$#" -ge 1 ] || die "usage: bench/hit-variants.sh LABEL=JAVA|JAR|ENV ..."

bench_init
bench_need wrk wrk
bench_need_service
bench_need java openjdk-17-jdk-headless

T="$BENCH_TMP"
DB="$T/data/catalog.db"
REDIS_PORT="$(bench_free_port)"
DEFAULT_JAR="$(bench_jar)"
LABELS=()
PORTS=()
DESCS=()
bench_start_redis "$REDIS_PORT"
for variant in "$@"; do
	label="${variant%%=*}"
	IFS='|' read -r java jar env <<<"${variant#*=}"
	port="$(bench_free_port)"
	mgmt="$(bench_free_port)"
	[ "${#LABELS[@]}" -gt 0 ] || [ "${CEILING_ON_API_PORT:-0}" = 0 ] || mgmt="$port"
	java_dir="$([ -n "$java" ] && dirname "$java" || dirname "$(command -v java)")"
	log "variant $label: java $java_dir/java, jar ${jar:-$DEFAULT_JAR}, env '${env}', port $port"
	# shellcheck disable=SC2086
	PATH="$java_dir:$PATH" MANAGEMENT_PORT="$mgmt" \
		bench_start_app "${jar:-$DEFAULT_JAR}" "$port" "$REDIS_PORT" "$DB" "$T/app-$label.log" $env
	[ "${#LABELS[@]}" -gt 0 ] || { CEILING="http://127.0.0.1:$mgmt"; bench_seed "$port" "$N" "$T/ids.txt"; }
	LABELS+=("$label")
	PORTS+=("$port")
	DESCS+=("$("$java_dir/java" -version 2>&1 | head -n 1 | cut -d' ' -f1-3) ${jar:+$(basename "$jar")} $env")
done
bench_fill_cache "${PORTS[0]}" "$N"

# Two passes: a JVM that waited while the others were loaded is not compiled yet.
log "warm-up 2 x ${WARM_S} s of each variant (not measured)"
for pass in 1 2; do
	bench_run_wrk "warm-ceiling-$pass" "$CEILING" get-random.lua $((WARM_S / 2)) 1 1 warm /actuator/info
	for i in "${!LABELS[@]}"; do
		bench_run_wrk "warm-${LABELS[$i]}-$pass" "http://127.0.0.1:${PORTS[$i]}" get-random.lua "$WARM_S" 1 "$N" warm
	done
done
bench_wait_quiet
for r in $(seq 1 "$ROUNDS"); do
	bench_run_wrk "ceiling-$r" "$CEILING" get-random.lua "$PHASE_S" 1 1 a /actuator/info
	for i in "${!LABELS[@]}"; do
		bench_run_wrk "${LABELS[$i]}-$r" "http://127.0.0.1:${PORTS[$i]}" get-random.lua "$PHASE_S" 1 "$N" b
	done
done

files() { bench_rounds "$1"; }
rps() { bench_rounds_rps "$1"; }
round_rps() { bench_wrk_field "$T/wrk-$1-$2.txt" rps | cut -d. -f1; }

mkdir -p "$(dirname "$OUT")"
{
	echo "bench/hit-variants.sh  $(date -u +%Y-%m-%dT%H:%MZ)  commit $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)  N=$N  wrk -t$THREADS -c$CONNS  ${PHASE_S}s x $ROUNDS rounds"
	echo "machine: $(nproc) cores; ceiling: /actuator/info of '${LABELS[0]}' ($([ "${CEILING_ON_API_PORT:-0}" = 0 ] && echo 'its management port' || echo 'its API port: MANAGEMENT_PORT = API_PORT'))"
	printf '%-12s %9s %8s %8s %9s %6s  %s\n' variant "req/s" "p50 ms" "p99 ms" "per round" "/ceil" "what"
	printf '%-12s %9s %8s %8s %9s %6s\n' ceiling "$(rps ceiling)" "$(bench_merged_percentile 50 $(files ceiling))" \
		"$(bench_merged_percentile 99 $(files ceiling))" "" "1.00"
	for i in "${!LABELS[@]}"; do
		l="${LABELS[$i]}"
		per="$(for r in $(seq 1 "$ROUNDS"); do round_rps "$l" "$r"; done | paste -sd/)"
		printf '%-12s %9s %8s %8s %9s %6s  %s\n' "$l" "$(rps "$l")" "$(bench_merged_percentile 50 $(files "$l"))" \
			"$(bench_merged_percentile 99 $(files "$l"))" "$per" \
			"$(awk -v x="$(rps "$l")" -v y="$(rps ceiling)" 'BEGIN { printf "%.2f", x / y }')" "${DESCS[$i]}"
	done
	bench_load_note
} | tee "$OUT"
