#!/usr/bin/env bash
# SQLite under write load: WRITERS (32) concurrent connections doing POST /products mixed with
# READERS (16) connections doing GET /products/<random seeded id>, for SECONDS (30), against one
# instance with its own redis-server and a fresh SQLite file. The cache TTL is short
# (CACHE_TTL_SECONDS=2 unless set) so that a good share of the reads miss the cache and go to
# SQLite too, competing with the writers for its single pooled connection.
#
# Reports creates/s and reads/s, latencies, non-2xx and 5xx counts, the app log's
# "database is locked" / SQLITE_BUSY lines, and checks that the database holds at least every
# product that was acknowledged with a 201.
# Exit status: 1 on any 5xx, any lock error in the log, any non-2xx, any wrk socket error or
# timeout (10 s), or fewer rows than acknowledged creates.
#
# Usage: bench/sqlite-load.sh [SECONDS]
# Env:   WRITERS=32 READERS=16 (0: the writers alone) SEED=500 WARM_S=30 BENCH_QUIET_WAIT=60
#        BENCH_KEEP=0 BENCH_JAVA_OPTS=
# The warm-up is 30 s as in the other benchmarks: after 10 s on 2 cores C2 was still compiling
# the write path during the measured run, which then showed about half the creates/s
# (BENCHMARKS.md).
source "$(dirname "$0")/lib.sh"

SECS="${1:-${SECONDS_RUN:-30}}"
WRITERS="${WRITERS:-32}"
READERS="${READERS:-16}"
SEED="${SEED:-500}"
WARM_S="${WARM_S:-30}"
export CACHE_TTL_SECONDS="${CACHE_TTL_SECONDS:-2}"

bench_init
bench_wait_quiet
bench_need wrk wrk
bench_need_service
bench_need sqlite3 sqlite3
bench_need java openjdk-17-jdk-headless

bench_single_service

bench_start_redis "$REDIS_PORT"
bench_start_app "$JAR" "$API_PORT" "$REDIS_PORT" "$DB" "$T/app.log"
log "seeding $SEED products for the readers"
bench_seed "$API_PORT" "$SEED" "$T/ids.txt"
LO="$(head -n 1 "$T/ids.txt")"
HI="$(tail -n 1 "$T/ids.txt")"

# writers and readers together; NAME SECONDS
run_mix() {
	local name="$1" secs="$2"
	wrk -t1 -c"$WRITERS" -d"${secs}s" --timeout 10s --latency -s "$BENCH_DIR/wrk/post-create.lua" "$BASE" \
		-- "$name-writers" >"$T/wrk-$name-writers.txt" 2>&1 &
	local wpid=$! f files=("$T/wrk-$name-writers.txt")
	if [ "$READERS" -gt 0 ]; then
		files+=("$T/wrk-$name-readers.txt")
		wrk -t1 -c"$READERS" -d"${secs}s" --timeout 10s --latency -s "$BENCH_DIR/wrk/get-random.lua" "$BASE" \
			-- "$LO" "$HI" "$name-readers" >"$T/wrk-$name-readers.txt" 2>&1 || true
	fi
	wait "$wpid" || true
	for f in "${files[@]}"; do
		grep -q '^RESULT ' "$f" || { cat "$f" >&2; die "wrk printed no RESULT line ($f)"; }
		log "$(grep '^RESULT ' "$f" | cut -d' ' -f2-)"
	done
}

log "warm-up: ${WARM_S} s (not measured)"
run_mix warmup "$WARM_S"
rows_before="$(sqlite3 -readonly "$DB" 'PRAGMA busy_timeout=5000; SELECT count(*) FROM products;' | tail -n 1)"
log "measured run: $WRITERS writers + $READERS readers for ${SECS} s"
bench_wait_quiet
m0="$(bench_cpu_mark)"
run_mix load "$SECS"
cpu_others="$(bench_cpu_others "$m0" "$(bench_cpu_mark)" "$SECS")"
sleep 1
rows_after="$(sqlite3 -readonly "$DB" 'PRAGMA busy_timeout=5000; SELECT count(*) FROM products;' | tail -n 1)"

w="$T/wrk-load-writers.txt"
r="$T/wrk-load-readers.txt"
fw() { bench_wrk_field "$w" "$1"; }
wu() { bench_wrk_field "$T/wrk-warmup-writers.txt" "$1"; }
# Without readers their figures are 0.
fr() { if [ "$READERS" -gt 0 ]; then bench_wrk_field "$r" "$1"; else echo 0; fi; }
ru() { if [ "$READERS" -gt 0 ]; then bench_wrk_field "$T/wrk-warmup-readers.txt" "$1"; else echo 0; fi; }

creates="$(fw c201)"
creates_per_s="$(awk -v c="$creates" -v d="$(fw duration_s)" 'BEGIN { printf "%.1f", c / d }')"
reads_ok="$(fr c2xx)"
reads_per_s="$(awk -v c="$reads_ok" -v d="$(fr duration_s)" 'BEGIN { printf "%.1f", (d > 0) ? c / d : 0 }')"
total_5xx=$(( $(fw c5xx) + $(fr c5xx) + $(wu c5xx) + $(ru c5xx) ))
total_non2xx=$(( $(fw non2xx) + $(fr non2xx) + $(wu non2xx) + $(ru non2xx) ))
sockerr=0
for g in fw fr; do
	sockerr=$((sockerr + $($g err_connect) + $($g err_read) + $($g err_write) + $($g err_timeout)))
done
locks="$(grep -ciE 'database is locked|SQLITE_BUSY' "$T/app.log" || true)"
app_errors="$(grep -cE '^[0-9T:.-]+Z? +ERROR' "$T/app.log" || true)"
new_rows=$((rows_after - rows_before))

echo
echo "SQLITE LOAD BENCHMARK  $(date -u +%Y-%m-%dT%H:%MZ)  ${SECS} s  $WRITERS writers (POST) + $READERS readers (GET)  jar=$(basename "$JAR")"
printf '%-10s %10s %10s %9s %9s %9s %9s %7s %7s %8s\n' side "ok" "ok/s" "p50 ms" "p90 ms" "p99 ms" "max ms" 5xx non2xx sockerr
printf '%-10s %10s %10s %9s %9s %9s %9s %7s %7s %8s\n' writers "$creates" "$creates_per_s" "$(fw p50_ms)" "$(fw p90_ms)" "$(fw p99_ms)" "$(fw max_ms)" \
	"$(fw c5xx)" "$(fw non2xx)" "$(( $(fw err_connect) + $(fw err_read) + $(fw err_write) + $(fw err_timeout) ))"
printf '%-10s %10s %10s %9s %9s %9s %9s %7s %7s %8s\n' readers "$reads_ok" "$reads_per_s" "$(fr p50_ms)" "$(fr p90_ms)" "$(fr p99_ms)" "$(fr max_ms)" \
	"$(fr c5xx)" "$(fr non2xx)" "$(( $(fr err_connect) + $(fr err_read) + $(fr err_write) + $(fr err_timeout) ))"
echo "reads by X-Cache: HIT $(fr hit), MISS $(fr miss) (read from SQLite), BYPASS $(fr bypass)   (cache TTL ${CACHE_TTL_SECONDS} s)"
echo "5xx (incl. warm-up): $total_5xx   non-2xx (incl. warm-up): $total_non2xx   socket errors/timeouts: $sockerr"
echo "app log: 'database is locked'/SQLITE_BUSY lines: $locks   ERROR lines: $app_errors"
echo "rows added during the measured run: $new_rows (201s counted by wrk: $creates; requests in flight when wrk stopped may add a few)"
bench_load_note
echo "CPU of processes this script did not start, during the measured run (cores of 2): $cpu_others"
echo "SQLITELOAD creates_per_s=$creates_per_s reads_per_s=$reads_per_s writer_p99_ms=$(fw p99_ms) reader_p99_ms=$(fr p99_ms) 5xx=$total_5xx non2xx=$total_non2xx sockerr=$sockerr locks=$locks rows_added=$new_rows acked=$creates"
if [ "$locks" -gt 0 ] || [ "$app_errors" -gt 0 ]; then
	echo "app log excerpts:"
	grep -iE 'database is locked|SQLITE_BUSY| ERROR ' "$T/app.log" | cut -c1-240 | head -n 10 | sed 's/^/  /'
fi

status=0
[ "$total_5xx" -eq 0 ] || { echo "FAIL: $total_5xx responses were 5xx"; status=1; }
[ "$locks" -eq 0 ] || { echo "FAIL: $locks lock errors in the app log"; status=1; }
[ "$total_non2xx" -eq 0 ] || { echo "FAIL: $total_non2xx responses were not 2xx"; status=1; }
[ "$sockerr" -eq 0 ] || { echo "FAIL: $sockerr socket errors or timeouts"; status=1; }
[ "$new_rows" -ge "$creates" ] || { echo "FAIL: only $new_rows rows added for $creates acknowledged creates"; status=1; }
[ "$status" -ne 0 ] || echo "PASS"
exit "$status"
