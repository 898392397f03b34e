#!/usr/bin/env bash
# What tracing costs a Redis hit: three instances of the same jar, side by side in one run,
# sharing one SQLite file with N products and one private redis-server:
#   off   no OTLP endpoint (the default): no exporter; trace ids still in the log lines
#   t10   OTEL_EXPORTER_OTLP_ENDPOINT set, OTEL_TRACES_SAMPLER=parentbased_traceidratio,
#         OTEL_TRACES_SAMPLER_ARG=0.1 (10 % of requests recorded and exported)
#   t100  the same at 1.0 (every request recorded and exported)
#   base  (only with BASE_JAR=path) a jar without tracing at all, e.g. one built before it
# The exporting instances send to bench/py/otlp_sink.py, a local OTLP/HTTP stand-in that
# accepts and discards. The requests carry no traceparent, so the sampler decides alone.
#
# Every instance gets its cache filled and a JIT warm-up of WARM_S seconds of hits; then the
# variants are measured ROUNDS times, alternated (wrk -t$THREADS -c$CONNS, PHASE_S seconds of
# GET /products/{random id}, all Redis hits), so that the drift of a shared machine weighs on
# each alike. Prints req/s, p50, p99, p99.9 per variant over all rounds and the ratios to
# "off"; writes the table to OUT_DIR/tracing.txt. The exit status is 1 when any request failed.
#
# Usage: bench/tracing.sh          (about 5 minutes with the defaults, 6 with BASE_JAR)
# Env:   N=10000 THREADS=2 CONNS=64 WARM_S=30 PHASE_S=10 ROUNDS=3 OUT_DIR=bench/results
#        BASE_JAR= BENCH_QUIET_WAIT=60 BENCH_KEEP=0 BENCH_JAVA_OPTS=
source "$(dirname "$0")/lib.sh"

N="${N:-10000}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-64}"
WARM_S="${WARM_S:-30}"
PHASE_S="${PHASE_S:-10}"
ROUNDS="${ROUNDS:-3}"
OUT_DIR="${OUT_DIR:-$BENCH_DIR/results}"

bench_init
bench_need wrk wrk
bench_need python3 python3
bench_need_service

JAR="$(bench_jar)"
T="$BENCH_TMP"
DB="$T/data/catalog.db"
REDIS_PORT="$(bench_free_port)"
SINK_PORT="$(bench_free_port)"
VARIANTS="off t10 t100"
[ -z "${BASE_JAR:-}" ] || { [ -f "$BASE_JAR" ] || die "BASE_JAR=$BASE_JAR: no such file"; VARIANTS="base $VARIANTS"; }
declare -A PORT
for v in $VARIANTS; do PORT[$v]="$(bench_free_port)"; done
bench_distinct_ports "$REDIS_PORT" "$SINK_PORT" "${PORT[@]}"
log "jar: $JAR; redis $REDIS_PORT; OTLP sink $SINK_PORT; temp dir $T"

python3 "$BENCH_DIR/py/otlp_sink.py" "$SINK_PORT" >"$T/sink.log" 2>&1 &
SINK_PID=$!
bench_track "$SINK_PID"
for _ in $(seq 1 50); do bench_port_open "$SINK_PORT" && break; sleep 0.1; done
bench_port_open "$SINK_PORT" || die "the OTLP sink did not listen on $SINK_PORT"

bench_start_redis "$REDIS_PORT"
start() {
	local v="$1" jar="$JAR"
	shift
	[ "$v" != base ] || jar="$BASE_JAR"
	bench_start_app "$jar" "${PORT[$v]}" "$REDIS_PORT" "$DB" "$T/app-$v.log" "$@"
	log "$v: port ${PORT[$v]}, pid $APP_PID"
}
first=1
for v in $VARIANTS; do
	case "$v" in
		base | off) start "$v" ;;
		t10) start "$v" OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$SINK_PORT" \
			OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0.1 ;;
		t100) start "$v" OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$SINK_PORT" \
			OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=1.0 ;;
	esac
	if [ "$first" = 1 ]; then
		log "seeding $N products"
		bench_seed "${PORT[$v]}" "$N" "$T/ids.txt"
		first=0
	fi
done

for v in $VARIANTS; do bench_fill_cache "${PORT[$v]}" "$N"; done
log "warm-up ${WARM_S} s of hits on each variant (not measured)"
for v in $VARIANTS; do bench_run_wrk "warm-$v" "http://127.0.0.1:${PORT[$v]}" get-random.lua "$WARM_S" 1 "$N" "warm-$v"; done

bench_wait_quiet
for r in $(seq 1 "$ROUNDS"); do
	for v in $VARIANTS; do
		bench_run_wrk "$v-$r" "http://127.0.0.1:${PORT[$v]}" get-random.lua "$PHASE_S" 1 "$N" "$v"
	done
done
kill -TERM "$SINK_PID" 2>/dev/null || true
wait "$SINK_PID" 2>/dev/null || true
bench_untrack "$SINK_PID"

rps() { bench_rounds_rps "$1"; }
pct() { bench_merged_percentile "$2" $(bench_rounds "$1"); }
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { printf "%.2f", (y > 0) ? x / y : 0 }'; }

mkdir -p "$OUT_DIR"
COMMIT="$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)"
TABLE="$OUT_DIR/tracing.txt"
{
	echo "bench/tracing.sh  $(date -u +%Y-%m-%dT%H:%MZ)  commit $COMMIT  N=$N  wrk -t$THREADS -c$CONNS  ${PHASE_S}s x $ROUNDS rounds, alternated, after ${WARM_S}s of warm-up each"
	echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); $(java -version 2>&1 | head -n 1); JVM flags: ${BENCH_JAVA_OPTS:-none}"
	[ -z "${BASE_JAR:-}" ] || echo "base: $BASE_JAR"
	printf '%-52s %9s %8s %8s %9s %5s %6s %9s\n' variant "req/s" "p50 ms" "p99 ms" "p99.9 ms" 5xx HIT% "vs off"
	for v in $VARIANTS; do
		case "$v" in
			base) desc="base: the jar without tracing" ;;
			off) desc="off: no endpoint (default)" ;;
			t10) desc="t10: OTLP export, 10 % sampled" ;;
			t100) desc="t100: OTLP export, 100 % sampled" ;;
		esac
		hits="$(bench_rounds_sum "$v" hit)"
		reqs="$(bench_rounds_sum "$v" requests)"
		printf '%-52s %9s %8s %8s %9s %5s %6s %9s\n' "Redis hits, $desc" "$(rps "$v")" "$(pct "$v" 50)" "$(pct "$v" 99)" \
			"$(pct "$v" 99.9)" "$(bench_rounds_sum "$v" c5xx)" \
			"$(awk -v h="$hits" -v r="$reqs" 'BEGIN { printf "%.0f", (r > 0) ? 100 * h / r : 0 }')" \
			"$(ratio "$(rps "$v")" "$(rps off)")"
	done
	echo "OTLP sink: $(tail -n 1 "$T/sink.log")"
	bench_load_note
} | tee "$TABLE"

failed=0
for f in "$T"/wrk-*.txt; do
	[ "$(bench_wrk_field "$f" c5xx)" -eq 0 ] || failed=1
	[ "$(bench_wrk_field "$f" err_timeout)" -eq 0 ] || failed=1
done
[ "$failed" = 0 ] || { echo "FAIL: some requests got a 5xx or timed out"; exit 1; }
