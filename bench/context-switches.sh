#!/usr/bin/env bash
# Context switches per request: Redis hits next to the 95 % GET / 5 % PUT mix on one service
# (issue #26 goal 2). The mix costs more CPU per request than its parts add up to (BENCHMARKS.md,
# note 18); a write makes more round trips to Redis and the database than a hit, and each parks
# the calling thread and wakes it again. This counts those switches.
#
# One service (DB=postgresql: a schema of the local PostgreSQL made for the run and dropped after
# it; DB=sqlite: a file of its own) with its own redis-server, N products created through the API
# and loaded into Redis, logs at WARN. After WARM_S of the mix and WARM_S/3 of hits (not
# measured), ROUNDS rounds of PHASE_S of hits (h) then of the mix (m), wrk -t$THREADS -c$CONNS,
# random ids 1..N. Around each phase it reads the voluntary and involuntary context switches
# (/proc/PID/task/*/status) of the service's threads, of the postgres processes, of the
# redis-server, and of the whole machine (/proc/stat, ctxt), and prints each per request, with
# the mix's excess over the hits per write (the difference per request x 20). The same for CPU
# time (utime + stime, in microseconds per request): a switch counts what wakes, CPU what it
# costs. On PostgreSQL it also counts, per write, the change feed's reads (scans of its cursor
# row, from pg_stat_user_tables) and the batches that applied something (updates of that row).
#
# Usage: bench/context-switches.sh   (about 3 minutes with the defaults)
# Env:   DB=postgresql N=1000 THREADS=2 CONNS=64 WARM_S=90 PHASE_S=10 ROUNDS=2
#        OUT=bench/results/context-switches.txt BENCH_JAR BENCH_KEEP=0
#        APP_ENV="CHANGE_FEED_ENABLED=false ..." (extra environment of the service)
source "$(dirname "$0")/lib.sh"

DB="${DB:-postgresql}"
N="${N:-1000}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-64}"
WARM_S="${WARM_S:-90}"
PHASE_S="${PHASE_S:-10}"
ROUNDS="${ROUNDS:-2}"
OUT="${OUT:-$BENCH_DIR/results/context-switches.txt}"

bench_init
bench_need wrk wrk
bench_need_service
bench_need python3 python3
bench_need java openjdk-17-jdk-headless
bench_need_db "$DB"
JAR="$(bench_jar)"
T="$BENCH_TMP"

ENVS=(LOGGING_LEVEL_ROOT=WARN LOGGING_LEVEL_COM_EXAMPLE_CATALOG=WARN CACHE_LOG_LEVEL=WARN)
if [ "$DB" = postgresql ]; then
	SCHEMA="context_switches_$$"
	bench_pg_schema "$SCHEMA"
	ENVS+=("${PG_ENV[@]}")
fi
# shellcheck disable=SC2206 # one setting a word
ENVS+=(${APP_ENV:-})
REDIS_PORT="$(bench_free_port)"
API_PORT="$(bench_free_port)"
bench_start_redis "$REDIS_PORT"
SERVICE_REDIS_PID="$REDIS_PID"
bench_start_app "$JAR" "$API_PORT" "$REDIS_PORT" "$T/catalog.db" "$T/app.log" "${ENVS[@]}"
SERVICE_PID="$APP_PID"
log "jar: $JAR; DB=$DB; api $API_PORT, redis $REDIS_PORT; temp dir $T"
log "seeding $N products"
bench_seed "$API_PORT" "$N" "$T/ids.txt"
bench_fill_cache "$API_PORT" "$N"
BASE="http://127.0.0.1:$API_PORT"

# Voluntary + involuntary switches of every thread of the given processes.
switches_of() {
	local pid total=0 task n
	for pid in "$@"; do
		for task in /proc/"$pid"/task/*; do
			n="$(awk '/ctxt_switches/ { s += $2 } END { print s + 0 }' "$task/status" 2>/dev/null || echo 0)"
			total=$((total + n))
		done
	done
	echo "$total"
}
# The change feed's reads and the batches that applied something: a read scans the cursor row
# once to lock it, a batch scans it again to move it. PostgreSQL sends its counters within a
# second or so, hence the pause before reading them.
feed_counts() {
	if [ "$DB" = postgresql ]; then
		sleep 1.5
		bench_psql "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) - n_tup_upd, n_tup_upd FROM pg_stat_user_tables
			WHERE schemaname = '$SCHEMA' AND relname = 'product_change_cursor'" | tr '|' ' '
	else
		echo 0 0
	fi
}
# switches of service, postgres, redis, machine; CPU ticks of the same; the feed's reads and batches
sample() {
	local pg
	pg="$(pgrep -x postgres | tr '\n' ' ')"
	# shellcheck disable=SC2086 # one pid a word
	echo "$(switches_of "$SERVICE_PID") $(switches_of $pg) $(switches_of "$SERVICE_REDIS_PID") $(awk '/^ctxt/ { print $2 }' /proc/stat)" \
		"$(bench_cpu_ticks "$SERVICE_PID") $(bench_cpu_ticks $pg) $(bench_cpu_ticks "$SERVICE_REDIS_PID") $(bench_cpu_busy)" \
		"$(feed_counts)"
}

# measure NAME SCRIPT: one phase; appends "NAME requests non2xx" and the sample before and after.
measure() {
	local before after
	before="$(sample)"
	bench_run_wrk "$1" "$BASE" "$2" "$PHASE_S" 1 "$N" "$1"
	after="$(sample)"
	echo "$1 $(bench_wrk_field "$T/wrk-$1.txt" requests) $(bench_wrk_field "$T/wrk-$1.txt" non2xx) $before $after" >>"$T/phases.txt"
}

log "warm-up ${WARM_S} s of the mix and $((WARM_S / 3)) s of hits (not measured)"
bench_run_wrk warm-m "$BASE" mix.lua "$WARM_S" 1 "$N" warm
bench_run_wrk warm-h "$BASE" get-random.lua $((WARM_S / 3)) 1 "$N" warm
: >"$T/phases.txt"
for r in $(seq 1 "$ROUNDS"); do
	measure "h-$r" get-random.lua
	measure "m-$r" mix.lua
done

{
	echo "bench/context-switches.sh  $(date -u +%Y-%m-%dT%H:%MZ)  commit $(git -C "$REPO_DIR" rev-parse --short HEAD)  DB=$DB  N=$N  wrk -t$THREADS -c$CONNS  ${PHASE_S}s x $ROUNDS rounds (hits, then the mix)"
	echo "machine: $(nproc) cores; $(java -version 2>&1 | head -n 1); jar: $(basename "$JAR"); APP_ENV: ${APP_ENV:-none}"
	python3 - "$T/phases.txt" "$(getconf CLK_TCK 2>/dev/null || echo 100)" <<'PY'
import sys
rows = [line.split() for line in open(sys.argv[1])]
tick_us = 1e6 / int(sys.argv[2])
parts = ("service", "postgres", "redis", "machine")
# a sample: 4 switch counts, 4 CPU tick counts, the feed's reads and batches
WIDTH = 10
totals = {}
tables = {"switches": ("context switches per request", 0, 1.0, "%9.2f"),
          "cpu": ("CPU microseconds per request", 4, tick_us, "%9.1f")}
for title, (unit, first, scale, fmt) in tables.items():
    print("%-6s %9s %7s  %s" % ("phase", "requests", "non2xx", "  ".join("%9s" % p for p in parts)) + "   (%s)" % unit)
    for row in rows:
        name, requests, non2xx = row[0], int(row[1]), int(row[2])
        before = [int(v) for v in row[3 + first:3 + first + 4]]
        after = [int(v) for v in row[3 + WIDTH + first:3 + WIDTH + first + 4]]
        print("%-6s %9d %7d  %s" % (name, requests, non2xx, "  ".join(fmt % ((a - b) * scale / requests) for a, b in zip(after, before))))
    print()
for row in rows:
    name, requests = row[0], int(row[1])
    before, after = [int(v) for v in row[3:3 + WIDTH]], [int(v) for v in row[3 + WIDTH:3 + 2 * WIDTH]]
    t = totals.setdefault(name.split("-")[0], [0, [0] * WIDTH])
    t[0] += requests
    t[1] = [x + (a - b) for x, a, b in zip(t[1], after, before)]
if "h" in totals and "m" in totals:
    h = [x / totals["h"][0] for x in totals["h"][1]]
    m = [x / totals["m"][0] for x in totals["m"][1]]
    print("the mix's excess per write (per request x 20)")
    print("  context switches: " + ", ".join("%s %.1f" % (p, (b - a) * 20) for p, a, b in zip(parts, h[0:4], m[0:4])))
    print("  CPU microseconds: " + ", ".join("%s %.0f" % (p, (b - a) * 20 * tick_us) for p, a, b in zip(parts, h[4:8], m[4:8])))
    hit_us = h[7] * tick_us
    print("  the machine's CPU per hit: %.0f us; a write's excess in hits: %.1f" % (hit_us, (m[7] - h[7]) * 20 / h[7]))
    if m[8] > 0:
        # per request x 20, as above
        print("  change feed per write (PostgreSQL): %.2f reads, %.2f batches that applied changes" % (m[8] * 20, m[9] * 20))
PY
} | tee "$OUT"
log "table: $OUT"
# Any request that failed (non-2xx) makes the exit status 1.
awk '$3 > 0 { failed = 1 } END { exit failed }' "$T/phases.txt"
