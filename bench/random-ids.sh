#!/usr/bin/env bash
# Flood of random missing ids from one client: wrk (2 threads, 16 connections) asks for
# GET /products/<random id in 1e6..2e9> for SECONDS (default 20). Prints what the flood made the
# service do: requests answered, how many reached the database (one "CACHE MISS" line and one
# database read each), log bytes written, and the 404/429 split. Run it with the per-client
# budget off (NOT_FOUND_PER_SECOND=0, the service as it was before) and on (the default, 50).
# Only 127.0.0.1; the service gets its own Redis and SQLite file on free ports.
#
# Usage: bench/random-ids.sh [SECONDS] [NOT_FOUND_PER_SECOND]
source "$(dirname "$0")/lib.sh"
bench_init
seconds="${1:-20}"
budget="${2:-50}"
bench_need redis-server
bench_need wrk
bench_single_service
bench_start_redis "$REDIS_PORT"
bench_start_app "$JAR" "$API_PORT" "$REDIS_PORT" "$DB" "$T/app.log" NOT_FOUND_PER_SECOND="$budget"
bench_wait_quiet
before_bytes="$(stat -c %s "$T/app.log")"
before_miss="$(grep -c 'CACHE MISS' "$T/app.log" || true)"
wrk -t2 -c16 -d"${seconds}s" --latency -s "$BENCH_DIR/wrk/get-random.lua" "$BASE" -- 1000000 2000000000 flood \
	>"$T/wrk.out" 2>&1 || die "wrk failed: $(tail -n 5 "$T/wrk.out")"
sleep 1
requests="$(bench_wrk_field "$T/wrk.out" requests)"
rps="$(bench_wrk_field "$T/wrk.out" rps)"
misses=$(($(grep -c 'CACHE MISS' "$T/app.log" || true) - before_miss))
log_bytes=$(($(stat -c %s "$T/app.log") - before_bytes))
# The service answers 429 without reading Redis or the database, and logs nothing for it.
throttled=$((requests - misses))
echo "RESULT budget=$budget seconds=$seconds requests=$requests rps=$rps database_reads=$misses" \
	"database_reads_per_s=$((misses / seconds)) log_bytes=$log_bytes throttled_or_cached=$throttled" \
	"log_bytes_per_s=$((log_bytes / seconds))"
bench_load_note
