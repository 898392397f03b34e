#!/usr/bin/env bash
# Batch reads (issue #23, part 2): one GET /products?ids=<50 ids> against 50 single
# GET /products/{id} of the same 50 cached products, side by side on one service, in
# alternating rounds after a warm-up; req/s, p50/p99 and products per second of each. Then
# what a cold batch costs: the SQL statements (SPRING_JPA_SHOW_SQL's "Hibernate: " lines, one
# per statement) of one batch of 50 after a FLUSHALL of the service's private Redis, against 50
# cold single GETs, and the Redis commands (INFO commandstats) of a warm batch.
# Only 127.0.0.1; the service gets its own Redis and SQLite file on free ports.
#
# Usage: bench/batch.sh
# Env:   THREADS=2 CONNS=16 WARM_S=30 PHASE_S=10 ROUNDS=3 OUT=bench/results/batch.txt
source "$(dirname "$0")/lib.sh"

COUNT=50
THREADS="${THREADS:-2}"
CONNS="${CONNS:-16}"
WARM_S="${WARM_S:-30}"
PHASE_S="${PHASE_S:-10}"
ROUNDS="${ROUNDS:-3}"
OUT="${OUT:-$BENCH_DIR/results/batch.txt}"

bench_init
bench_need wrk wrk
bench_need_service
bench_single_service
bench_start_redis "$REDIS_PORT"
# Each SQL statement Hibernate sends is one "Hibernate: ..." line on stdout. (The change feed
# polls with plain JDBC: not counted.)
bench_start_app "$JAR" "$API_PORT" "$REDIS_PORT" "$DB" "$T/app.log" SPRING_JPA_SHOW_SQL=true
bench_seed "$API_PORT" "$COUNT" "$T/ids.txt"
IDS="$(paste -sd, "$T/ids.txt")"
BATCH="/products?ids=$IDS"
rcli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
sql_lines() { grep -c '^Hibernate: ' "$T/app.log" || true; }

# A cold batch: no key in Redis at all, so every id is a plain miss.
rcli FLUSHALL >/dev/null
before="$(sql_lines)"
cold="$(curl -s -D "$T/cold.headers" -o "$T/cold.json" -w '%{http_code}' "$BASE$BATCH")"
sleep 0.5
cold_sql=$(($(sql_lines) - before))
[ "$cold" = 200 ] || die "the cold batch answered $cold"
cold_counts="$(sed -n 's/^X-Cache-Counts: \(.*\)\r$/\1/p' "$T/cold.headers")"
log "cold batch of $COUNT: $cold_sql SQL statement(s), X-Cache-Counts: $cold_counts"

# The same 50 products cold, one GET each.
rcli FLUSHALL >/dev/null
before="$(sql_lines)"
bench_fill_cache "$API_PORT" "$COUNT"
sleep 0.5
single_sql=$(($(sql_lines) - before))
log "50 cold single GETs: $single_sql SQL statement(s)"

# Redis commands of one warm batch (every product cached by the GETs above).
curl -s -o /dev/null "$BASE$BATCH"
rcli CONFIG RESETSTAT >/dev/null
warm_counts="$(curl -s -D - -o /dev/null "$BASE$BATCH" | sed -n 's/^X-Cache-Counts: \(.*\)\r$/\1/p')"
warm_commands="$(rcli INFO commandstats | tr -d '\r' | sed -n 's/^cmdstat_\([a-z|]*\):calls=\([0-9]*\).*/\1=\2/p' |
	grep -v '^info=\|^config|resetstat=' | paste -sd' ')"
log "one warm batch: X-Cache-Counts: $warm_counts; Redis commands: $warm_commands"

log "warm-up ${WARM_S} s of each (not measured)"
bench_run_wrk warm-batch "$BASE" get-random.lua "$WARM_S" 1 1 warm "$BATCH"
bench_run_wrk warm-single "$BASE" get-random.lua "$WARM_S" 1 "$COUNT" warm
bench_wait_quiet
for r in $(seq 1 "$ROUNDS"); do
	bench_run_wrk "batch-$r" "$BASE" get-random.lua "$PHASE_S" 1 1 batch "$BATCH"
	bench_run_wrk "single-$r" "$BASE" get-random.lua "$PHASE_S" 1 "$COUNT" single
done

summary() {
	local phase="$1" per="$2" rps p50 p99 hits requests non2xx
	# shellcheck disable=SC2046
	rps="$(bench_rounds_rps "$phase")"
	p50="$(bench_merged_percentile 50 $(bench_rounds "$phase"))"
	p99="$(bench_merged_percentile 99 $(bench_rounds "$phase"))"
	requests="$(bench_rounds_sum "$phase" requests)"
	hits="$(bench_rounds_sum "$phase" hit)"
	non2xx="$(bench_rounds_sum "$phase" non2xx)"
	printf '%-34s %9s %13s %9s %9s %10s %8s\n' "$3" "$rps" "$((rps * per))" "$p50" "$p99" "$hits/$requests" "$non2xx"
}

{
	echo "bench/batch.sh  $(date -u +%Y-%m-%dT%H:%MZ)  commit $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
		" $COUNT products, wrk -t$THREADS -c$CONNS, warm-up ${WARM_S} s each, ${PHASE_S} s x $ROUNDS alternating rounds"
	echo "SQLite, private redis-server, one service; the host is shared with other engineers' builds and tests (busy)."
	echo
	printf '%-34s %9s %13s %9s %9s %10s %8s\n' "request" "req/s" "products/s" "p50 ms" "p99 ms" "X-Cache HIT" "non-2xx"
	summary batch "$COUNT" "GET /products?ids=<50 ids>"
	summary single 1 "GET /products/{id} (the same 50)"
	echo
	echo "cold batch of $COUNT (Redis flushed): $cold_sql SQL statement(s); X-Cache-Counts: $cold_counts"
	echo "the same $COUNT cold, one GET each: $single_sql SQL statement(s)"
	echo "one warm batch of $COUNT: X-Cache-Counts: $warm_counts; Redis commands (INFO commandstats): $warm_commands"
	echo "  (a hit's TTL check, about 1 in 32, runs the lookup script in the background: EVALSHA, with the"
	echo "  HMGET, TYPE and PTTL inside it counted too)"
	echo "the cold batch's statement:"
	grep '^Hibernate: ' "$T/app.log" | grep -m1 ' in (' | cut -c1-300 | sed 's/^/  /' || true
	bench_load_note
} | tee "$OUT"
