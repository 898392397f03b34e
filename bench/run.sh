#!/usr/bin/env bash
# Side-by-side speed benchmark: how fast a cache hit is next to the server's own ceiling and
# next to the database, measured in one run on one jar, after a JIT warm-up.
#
# Three instances of the service share one SQLite file with N products:
#  S  with its own redis-server (caching on), MANAGEMENT_PORT on a free port of its own;
#  D  with REDIS_PORT pointing where nothing listens (caching off: every GET from SQLite);
#  G  on S's redis-server with the near cache on (CACHE_NEAR_ENABLED=true), when the build has one;
#  P  on PostgreSQL (127.0.0.1:5432, trust auth, database test, a schema made for the run and
#     dropped after it, N products inserted with SQL) with a redis-server of its own; PG=0 skips it.
# Phases (wrk -t$THREADS -c$CONNS, random ids 1..N):
#  a  ceiling: GET /actuator/info of S (same JVM, no I/O; on the management port when the
#     service has one)
#  b  GET /products/{id} on S, all hits (every id loaded into Redis first)
#  c  GET /products/{id} on D, database only
#  f  GET /products?page=..&size=20 on S, when the list endpoint answers 200
#  e  95 % GET / 5 % PUT on S
#  d  GET /products/{id} on S after its redis-server was killed (breaker open)
#  g  GET /products/{id} on G, all hits from its near cache (every id read once through G first)
#  bp GET /products/{id} on P, all hits;  ep  95 % GET / 5 % PUT on P
# S and P are first warmed up under the mix for WARM_MIX_S: an update runs in one request of
# twenty, so after WARM_S its code was still being compiled, and e measured the JIT (0.44x the
# hits after a 30 s mix warm-up, 0.62x after 120 s: bench/results/write-split.txt). After 90 s
# the mix still got faster round by round (p99 255, 106 and 67 ms in the three rounds of
# 2026-12-06 07:00), hence 180 s.
# a, b, c, g, e, bp and ep are measured ROUNDS times, alternated, so that the drift of this shared
# machine weighs on each of them alike; their figures are over all rounds together. A mix phase
# leaves the products it updated in its last moments to be read again (a miss each) by the next
# hit phase: a few hundred of its ~100,000 requests. f follows, d comes last (it kills Redis).
#
# Prints one table (req/s, p50, p99, p99.9, 5xx, other non-2xx answers, hits) and the ratios b/a, b/c, d/c, g/a, e/b and ep/bp;
# writes to OUT_DIR (default bench/results) the table (run.txt), each phase's latency at nine percentiles
# (latency.dat) and a latency chart drawn from them (latency.png, gnuplot, by
# bench/plot-latency.sh, which redraws it alone). The exit status is 1 when any request failed
# (5xx, socket errors); speed goals are reported, never fatal.
#
# Usage: bench/run.sh          (about 16 minutes with the defaults)
# Env:   N=10000 THREADS=2 CONNS=64 WARM_S=30 WARM_MIX_S=180 PHASE_S=10 ROUNDS=3 OUT_DIR=bench/results PG=1
#        BENCH_QUIET_WAIT=60 BENCH_KEEP=0 BENCH_JAVA_OPTS= BENCH_JAVA (another java, e.g. the image's
#        JDK 25: /usr/lib/jvm/temurin-25-jdk-amd64/bin/java)
source "$(dirname "$0")/lib.sh"

N="${N:-10000}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-64}"
WARM_S="${WARM_S:-30}"
WARM_MIX_S="${WARM_MIX_S:-180}"
PHASE_S="${PHASE_S:-10}"
ROUNDS="${ROUNDS:-3}"
OUT_DIR="${OUT_DIR:-$BENCH_DIR/results}"
PG="${PG:-1}"

bench_init
bench_need wrk wrk
bench_need_service
bench_need gnuplot gnuplot-nox
bench_need java openjdk-17-jdk-headless
[ "$PG" = 0 ] || bench_need psql postgresql-client

JAR="$(bench_jar)"
T="$BENCH_TMP"
DB="$T/data/catalog.db"
PORT_S="$(bench_free_port)"
MGMT_S="$(bench_free_port)"
PORT_D="$(bench_free_port)"
MGMT_D="$(bench_free_port)"
PORT_G="$(bench_free_port)"
MGMT_G="$(bench_free_port)"
DEAD_PORT="$(bench_free_port)"
REDIS_PORT="$(bench_free_port)"
PORT_P="$(bench_free_port)"
MGMT_P="$(bench_free_port)"
REDIS_PORT_P="$(bench_free_port)"
bench_distinct_ports "$PORT_S" "$MGMT_S" "$PORT_D" "$MGMT_D" "$PORT_G" "$MGMT_G" "$DEAD_PORT" "$REDIS_PORT" \
	"$PORT_P" "$MGMT_P" "$REDIS_PORT_P"
log "jar: $JAR; S $PORT_S (management $MGMT_S) -> redis $REDIS_PORT; D $PORT_D -> nothing at $DEAD_PORT; temp dir $T"

status_of() { curl -s -m 5 -o /dev/null -w '%{http_code}' "$1"; }

# ------------------------------------------------------------------------------ set-up
bench_start_redis "$REDIS_PORT"
# c and d measure reads from the database, not the bulkhead that guards it while Redis is
# down (bench/redis-down.sh measures that): with its default 5 ms wait most of 64 connections'
# reads got a 503 there. A wait of 1 s queues them instead.
DATABASE_READS="FALLBACK_MAX_WAIT=1s"
bench_start_app "$JAR" "$PORT_S" "$REDIS_PORT" "$DB" "$T/app-S.log" MANAGEMENT_PORT="$MGMT_S" "$DATABASE_READS"
log "seeding $N products"
bench_seed "$PORT_S" "$N" "$T/ids.txt"
bench_start_app "$JAR" "$PORT_D" "$DEAD_PORT" "$DB" "$T/app-D.log" MANAGEMENT_PORT="$MGMT_D" "$DATABASE_READS"
bench_start_app "$JAR" "$PORT_G" "$REDIS_PORT" "$DB" "$T/app-G.log" MANAGEMENT_PORT="$MGMT_G" \
	CACHE_NEAR_ENABLED=true CACHE_NEAR_MAX_ENTRIES="$N" CACHE_NEAR_TTL_SECONDS=3600

if [ "$PG" != 0 ]; then
	SCHEMA="bench_run_$$"
	bench_pg_schema "$SCHEMA"
	REDIS_PID_S="$REDIS_PID"
	bench_start_redis "$REDIS_PORT_P"
	REDIS_PID_P="$REDIS_PID"
	REDIS_PID="$REDIS_PID_S"
	bench_start_app "$JAR" "$PORT_P" "$REDIS_PORT_P" "$DB" "$T/app-P.log" MANAGEMENT_PORT="$MGMT_P" "${PG_ENV[@]}"
	APP_PID_P="$APP_PID"
	# The same products as bench_seed's, inserted in one statement (through the API they took minutes).
	bench_psql "SET search_path = $SCHEMA; INSERT INTO products (name, name_lower, description, price_cents, stock_quantity,
		created_at, updated_at, version) SELECT 'seed-' || i, 'seed-' || i, 'seeded for the benchmark',
		(i % 500 + 1) * 100 + i % 100, i % 50, now(), now(), 0 FROM generate_series(1, $N) AS i" >/dev/null
	log "P: PostgreSQL schema $SCHEMA, $N products; api $PORT_P (management $MGMT_P) -> redis $REDIS_PORT_P"
fi

CEILING="http://127.0.0.1:$MGMT_S"
[ "$(status_of "$CEILING/actuator/info")" = 200 ] || CEILING="http://127.0.0.1:$PORT_S"
[ "$(status_of "$CEILING/actuator/info")" = 200 ] || die "no /actuator/info on $MGMT_S or $PORT_S"
HAS_LIST=0
[ "$(status_of "http://127.0.0.1:$PORT_S/products?page=0&size=20")" = 200 ] && HAS_LIST=1
PAGES=$(( (N + 19) / 20 ))
# A build with a near cache exposes its state; wait for it to listen to Redis's invalidations.
HAS_NEAR=0
for _ in $(seq 1 50); do
	if curl -s -m 2 "http://127.0.0.1:$MGMT_G/actuator/prometheus" | grep -q '^catalog_cache_near_listening 1'; then
		HAS_NEAR=1
		break
	fi
	curl -s -m 2 -o /dev/null "http://127.0.0.1:$PORT_G/health" || true
	sleep 0.2
done
log "near cache (g): $([ "$HAS_NEAR" = 1 ] && echo "on, in G" || echo 'not in this build')"
log "ceiling: $CEILING/actuator/info; list endpoint: $([ "$HAS_LIST" = 1 ] && echo yes || echo 'not in this build')"

log "warm-up ${WARM_MIX_S} s of S under the 95/5 mix (not measured)"
bench_run_wrk warm-e "http://127.0.0.1:$PORT_S" mix.lua "$WARM_MIX_S" 1 "$N" warm-e
bench_fill_cache "$PORT_S" "$N"
if [ "$PG" != 0 ]; then
	log "warm-up ${WARM_MIX_S} s of P under the 95/5 mix, then ${WARM_S} s of its hits (not measured)"
	bench_fill_cache "$PORT_P" "$N"
	bench_run_wrk warm-ep "http://127.0.0.1:$PORT_P" mix.lua "$WARM_MIX_S" 1 "$N" warm-ep
	bench_fill_cache "$PORT_P" "$N"
	bench_run_wrk warm-bp "http://127.0.0.1:$PORT_P" get-random.lua "$WARM_S" 1 "$N" warm-bp
fi
[ "$HAS_NEAR" = 0 ] || bench_fill_cache "$PORT_G" "$N"
log "warm-up ${WARM_S} s of each of S (hits), D (database) and the ceiling (not measured)"
bench_run_wrk warm-b "http://127.0.0.1:$PORT_S" get-random.lua "$WARM_S" 1 "$N" warm-b
bench_run_wrk warm-c "http://127.0.0.1:$PORT_D" get-random.lua "$WARM_S" 1 "$N" warm-c
bench_run_wrk warm-a "$CEILING" get-random.lua $((WARM_S / 2)) 1 1 warm-a /actuator/info
[ "$HAS_NEAR" = 0 ] || bench_run_wrk warm-g "http://127.0.0.1:$PORT_G" get-random.lua "$WARM_S" 1 "$N" warm-g
if [ "$HAS_LIST" = 1 ]; then
	bench_run_wrk warm-f "http://127.0.0.1:$PORT_S" get-random.lua $((WARM_S / 2)) 0 $((PAGES - 1)) warm-f "/products?page=%d&size=20"
fi

# ------------------------------------------------------------------------------ measured
bench_wait_quiet
for r in $(seq 1 "$ROUNDS"); do
	bench_run_wrk "a-$r" "$CEILING" get-random.lua "$PHASE_S" 1 1 a /actuator/info
	bench_run_wrk "b-$r" "http://127.0.0.1:$PORT_S" get-random.lua "$PHASE_S" 1 "$N" b
	bench_run_wrk "c-$r" "http://127.0.0.1:$PORT_D" get-random.lua "$PHASE_S" 1 "$N" c
	[ "$HAS_NEAR" = 0 ] || bench_run_wrk "g-$r" "http://127.0.0.1:$PORT_G" get-random.lua "$PHASE_S" 1 "$N" g
	bench_run_wrk "e-$r" "http://127.0.0.1:$PORT_S" mix.lua "$PHASE_S" 1 "$N" e
	if [ "$PG" != 0 ]; then
		bench_run_wrk "bp-$r" "http://127.0.0.1:$PORT_P" get-random.lua "$PHASE_S" 1 "$N" bp
		bench_run_wrk "ep-$r" "http://127.0.0.1:$PORT_P" mix.lua "$PHASE_S" 1 "$N" ep
	fi
done
if [ "$PG" != 0 ]; then
	# P's share of the machine is not needed any more.
	kill "$APP_PID_P" 2>/dev/null || true
	wait "$APP_PID_P" 2>/dev/null || true
	bench_kill9 "$REDIS_PID_P"
fi
if [ "$HAS_LIST" = 1 ]; then
	bench_run_wrk f-1 "http://127.0.0.1:$PORT_S" get-random.lua "$PHASE_S" 0 $((PAGES - 1)) f "/products?page=%d&size=20"
fi
log "kill -9 redis-server of S"
bench_kill9 "$REDIS_PID"
bench_run_wrk d-warm "http://127.0.0.1:$PORT_S" get-random.lua 5 1 "$N" d-warm
bench_run_wrk d-1 "http://127.0.0.1:$PORT_S" get-random.lua "$PHASE_S" 1 "$N" d

# ------------------------------------------------------------------------------ summary
files() { bench_rounds "$1"; }
sum_field() { bench_rounds_sum "$1" "$2"; }
rps() { bench_rounds_rps "$1"; }
pct() { bench_merged_percentile "$2" $(files "$1"); }
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { printf "%.2f", (y > 0) ? x / y : 0 }'; }

mkdir -p "$OUT_DIR"
COMMIT="$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)"
JDK="$("${BENCH_JAVA:-java}" -version 2>&1 | head -n 1)"
TABLE="$OUT_DIR/run.txt"
RUN_AT="$(date -u +%Y-%m-%dT%H:%MZ)"
{
	echo "bench/run.sh  $RUN_AT  commit $COMMIT  N=$N  wrk -t$THREADS -c$CONNS  ${PHASE_S}s x $ROUNDS rounds (a, b, c, g, e$([ "$PG" = 0 ] || echo ", bp, ep")), mix warm-up ${WARM_MIX_S}s"
	echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); $JDK; JVM flags: ${BENCH_JAVA_OPTS:-none}"
	printf '%-44s %9s %8s %8s %9s %5s %7s %6s\n' phase "req/s" "p50 ms" "p99 ms" "p99.9 ms" 5xx non-2xx HIT%
	for p in a b g c f e d bp ep; do
		[ -n "$(files "$p")" ] || continue
		case "$p" in
			a) desc="a ceiling: /actuator/info" ;;
			b) desc="b GET by id, Redis hits" ;;
			c) desc="c GET by id, database only" ;;
			d) desc="d GET by id, Redis killed" ;;
			e) desc="e 95% GET / 5% PUT" ;;
			f) desc="f list page (size 20), cached" ;;
			g) desc="g GET by id, near cache hits" ;;
			bp) desc="bp PostgreSQL: GET by id, Redis hits" ;;
			ep) desc="ep PostgreSQL: 95% GET / 5% PUT" ;;
		esac
		hits="$(sum_field "$p" hit)"
		reqs="$(sum_field "$p" requests)"
		printf '%-44s %9s %8s %8s %9s %5s %7s %6s\n' "$desc" "$(rps "$p")" "$(pct "$p" 50)" "$(pct "$p" 99)" "$(pct "$p" 99.9)" \
			"$(sum_field "$p" c5xx)" "$(sum_field "$p" non2xx)" "$(awk -v h="$hits" -v r="$reqs" 'BEGIN { printf "%.0f", (r > 0) ? 100 * h / r : 0 }')"
	done
	if [ "$HAS_NEAR" = 1 ]; then
		near_ratio="g/a $(ratio "$(rps g)" "$(rps a)") (goal >= 0.8)"
		near_p99="  p99 g / p99 a: $(ratio "$(pct g 99)" "$(pct a 99)") (goal <= 1.2)"
	else
		near_ratio="g/a: no near cache in this build"
		near_p99=""
	fi
	echo "ratios (req/s): b/a $(ratio "$(rps b)" "$(rps a)") (goal >= 0.55)  b/c $(ratio "$(rps b)" "$(rps c)")  d/c $(ratio "$(rps d)" "$(rps c)") (goal >= 0.9)  $near_ratio"
	echo "p99 b / p99 a: $(ratio "$(pct b 99)" "$(pct a 99)")$near_p99"
	echo "95/5 mix (issue #26), SQLite: e/b $(ratio "$(rps e)" "$(rps b)") (goal >= 0.7)  p99 e / p99 b: $(ratio "$(pct e 99)" "$(pct b 99)") (goal <= 3)"
	if [ -n "$(files ep)" ]; then
		echo "95/5 mix (issue #26), PostgreSQL: ep/bp $(ratio "$(rps ep)" "$(rps bp)") (goal >= 0.7)  p99 ep / p99 bp: $(ratio "$(pct ep 99)" "$(pct bp 99)") (goal <= 3)"
	fi
	bench_load_note
} | tee "$TABLE"

# The latency chart: each phase's latency at a few percentiles (all its rounds merged), kept in
# latency.dat next to the table, so that bench/plot-latency.sh can redraw the chart without a
# new run, and drawn from it to latency.png. Series are named for what they measure.
series_name() {
	case "$1" in
		a) echo "ceiling" ;;
		b) echo "Redis hit" ;;
		g) echo "near-cache hit" ;;
		c) echo "database only" ;;
		d) echo "Redis down" ;;
		e) echo "95/5 mix" ;;
		f) echo "list page" ;;
	esac
}
DAT="$OUT_DIR/latency.dat"
phases=""
for p in a b g c d e f; do
	[ -z "$(files "$p")" ] || phases="$phases $p"
done
{
	echo "# Latency (ms) at each percentile of bench/run.sh's phases, all rounds of a phase merged; tab-separated."
	echo "# run: $RUN_AT  commit $COMMIT  N=$N  wrk -t$THREADS -c$CONNS  $PHASE_S s x $ROUNDS rounds"
	echo "# Columns are the phases of run.txt:$(for p in $phases; do printf ' %s = %s,' "$(series_name "$p")" "$p"; done | sed 's/,$//'). Redraw: bench/plot-latency.sh"
	line="percentile"
	for p in $phases; do line="$line"$'\t'"$(series_name "$p")"; done
	echo "$line"
	for q in 50 75 90 95 99 99.5 99.9 99.95 99.99; do
		line="$q"
		for p in $phases; do line="$line"$'\t'"$(pct "$p" "$q")"; done
		echo "$line"
	done
} >"$DAT"
"$BENCH_DIR/plot-latency.sh" "$DAT" "$OUT_DIR/latency.png" && log "table: $TABLE; chart data: $DAT"

failed=0
for f in "$T"/wrk-*.txt; do
	[ "$(bench_wrk_field "$f" c5xx)" -eq 0 ] || failed=1
	[ "$(bench_wrk_field "$f" err_timeout)" -eq 0 ] || failed=1
done
[ "$failed" = 0 ] || { echo "FAIL: some requests got a 5xx or timed out"; exit 1; }
