#!/usr/bin/env bash
# Slow clients: CONNECTIONS connections (default 500) each announce a 60000-byte JSON body and
# send one byte every INTERVAL seconds (default 3) for SECONDS (default 60), while /health and a
# cached GET /products/ID are probed every 100 ms on fresh connections. Goal: every probe answers
# 200 within 1 s. Only 127.0.0.1; the service gets its own Redis and SQLite file on free ports.
#
# Usage: bench/slow-clients.sh [SECONDS] [protected|unprotected]
#   protected   : the defaults (BODY_READ_TIMEOUT=10s, BODY_READS_PER_CLIENT=32)
#   unprotected : the guard switched off as far as settings allow (BODY_READ_TIMEOUT=1h,
#                 BODY_READS_PER_CLIENT=100000), i.e. the service as it was before
# Extra environment: CONNECTIONS, INTERVAL, BENCH_JAVA (a java binary, e.g. JDK 25),
# VIRTUAL_THREADS=true (JDK 21+ only).
source "$(dirname "$0")/lib.sh"
bench_init
seconds="${1:-60}"
mode="${2:-protected}"
connections="${CONNECTIONS:-500}"
interval="${INTERVAL:-3}"
bench_need redis-server
bench_need python3
bench_single_service
bench_start_redis "$REDIS_PORT"
extra=()
if [ "$mode" = unprotected ]; then
	extra=(BODY_READ_TIMEOUT=1h BODY_READS_PER_CLIENT=100000)
fi
if [ -n "${BENCH_JAVA:-}" ]; then
	PATH="$(dirname "$BENCH_JAVA"):$PATH"
fi
bench_start_app "$JAR" "$API_PORT" "$REDIS_PORT" "$DB" "$T/app.log" VIRTUAL_THREADS="${VIRTUAL_THREADS:-false}" \
	CACHE_LOG_LEVEL=WARN "${extra[@]}"
bench_seed "$API_PORT" 1 "$T/ids"
id="$(head -n 1 "$T/ids")"
curl -fsS -m 5 "$BASE/products/$id" >/dev/null
curl -fsS -m 5 "$BASE/products/$id" >/dev/null
log "mode $mode, java $(java -version 2>&1 | head -n 1), virtual threads ${VIRTUAL_THREADS:-false}: $connections connections trickling 1 byte / ${interval} s for ${seconds} s"
result="$(timeout $((seconds + 60)) python3 "$BENCH_DIR/py/slow_clients.py" "$API_PORT" "$id" "$connections" "$interval" "$seconds")"
echo "$result mode=$mode connections=$connections interval_s=$interval seconds=$seconds"
bench_load_note
