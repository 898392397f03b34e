#!/usr/bin/env bash
# Our Redis hits next to the textbook's (issue #26 goal 3): the same GET /products/{id}, all
# hits from Redis, on our service and on bench/textbook (a plain @Cacheable service as Spring's
# guides write it: same Boot, JVM, JVM flags, log level, database and Redis), and next to the
# ceiling, measured side by side in one run.
#
# One private redis-server serves both (their keys do not overlap: product:... and
# products::...); each app has its own SQLite file with the same N products (ours seeded over
# POST /products, the textbook's by its own start-up, SEED_COUNT). Our service runs as
# bench_start_app starts it: near cache off (CACHE_NEAR_ENABLED=false), so that its hits are
# Redis hits. Every id is read once through each app (the fill), then checked: our second GET
# says X-Cache: HIT, Redis holds N keys products::*, and the textbook still answers 200 for a
# row deleted from its database (its hit does not touch the database). Warm-up WARM_S s of each
# app (half of it for the ceiling), WARM_PASSES times, not measured; then ROUNDS rounds of
# PHASE_S s each of
#  a  the ceiling: GET /actuator/info of our service, on its management port (as bench/run.sh);
#  b  GET /products/{id} on our service, random ids 1..N, all Redis hits;
#  t  GET /products/{id} on the textbook app, the same;
# in the order a b t in odd rounds and t b a in even ones, so that the drift of this shared
# machine weighs on each alike. Prints req/s, p50, p99 (all rounds of a phase merged) and the
# ratios b/t (goal >= 1.3) and b/a (goal >= 0.55); writes the table to OUT.
#
# MIX=1 adds the 95/5 mix of issue #26 goal 2 (bench/wrk/mix.lua: 95 % GET, 5 % PUT of a new
# price, random ids) on each app, each next to its own hits:
#  m  the mix on our service;
#  x  the mix on the textbook app (its PUT changes the price in a transaction and evicts the
#     product with @CacheEvict, as Spring's guides write it; its @Version makes a PUT that
#     races another of the same product fail, which the table counts as non-2xx of x);
# in the order a b t m x, then x m t b a, after a warm-up of the mix on each app too; prints
# m/b and x/t. DB=postgresql puts both apps on schemas of the local PostgreSQL (made for the
# run, dropped after) instead of SQLite files.
#
# On this shared machine, FREE_FILE=/tmp/bench-free FREE_UNTIL=23:30 waits (before starting
# anything) until FREE_FILE exists, checking every 30 s, but no later than FREE_UNTIL (HH:MM,
# UTC, today); the load (uptime) right before and right after the measured rounds goes into
# the table.
#
# Usage: bench/textbook.sh      (about 7 minutes with the defaults)
# Env:   N=1000 THREADS=2 CONNS=64 WARM_S=30 WARM_PASSES=2 PHASE_S=20 ROUNDS=3 OUT=bench/results/textbook.txt
#        MIX=0 (1: the mix phases too), DB=sqlite (or postgresql)
#        BENCH_JAR=our jar (default: the checkout's, built when missing or stale)
#        TEXTBOOK_JAR=the textbook's jar (default: bench/textbook/target, built offline when
#        missing or stale), BENCH_JAVA_OPTS= (both JVMs), FREE_FILE=, FREE_UNTIL=,
#        BENCH_QUIET_WAIT=60, BENCH_START_WAIT=90, BENCH_KEEP=0,
#        OURS_ENV="NAME=VALUE ..." (our service's environment besides bench_start_app's, e.g.
#        CACHE_LOG_LEVEL=WARN: a variant of ours against the same textbook)
# Exit:  0, 1 when a measured request failed (non-2xx, socket error), 2 on a set-up failure.
source "$(dirname "$0")/lib.sh"

N="${N:-1000}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-64}"
WARM_S="${WARM_S:-30}"
WARM_PASSES="${WARM_PASSES:-2}"
PHASE_S="${PHASE_S:-20}"
ROUNDS="${ROUNDS:-3}"
MIX="${MIX:-0}"
DB_KIND="${DB:-sqlite}"
OUT="${OUT:-$BENCH_DIR/results/textbook.txt}"
TEXTBOOK_DIR="$BENCH_DIR/textbook"

# ------------------------------------------------------------------------------ wait for the host
if [ -n "${FREE_FILE:-}" ]; then
	until_s="$(date -u -d "${FREE_UNTIL:-$(date -u -d '+1 hour' +%H:%M)}" +%s)" || die "FREE_UNTIL=$FREE_UNTIL: not HH:MM"
	while [ ! -e "$FREE_FILE" ] && [ "$(date -u +%s)" -lt "$until_s" ]; do
		log "waiting for $FREE_FILE (until ${FREE_UNTIL:-an hour from now} UTC; load $(bench_loadavg))"
		sleep 30
	done
	if [ -e "$FREE_FILE" ]; then FREE_NOTE="$FREE_FILE existed at $(date -u +%H:%M:%S) UTC"; else FREE_NOTE="$FREE_FILE did not appear by ${FREE_UNTIL:-the deadline} UTC: measured anyway"; fi
	log "$FREE_NOTE"
else
	FREE_NOTE="no wait for a free host (FREE_FILE unset)"
fi

bench_init
bench_need wrk wrk
bench_need_service
bench_need sqlite3 sqlite3
bench_need java openjdk-17-jdk-headless
bench_need_db "$DB_KIND"

# The textbook's jar, built offline (-o) when missing or older than its sources.
textbook_jar() {
	if [ -n "${TEXTBOOK_JAR:-}" ]; then
		[ -f "$TEXTBOOK_JAR" ] || die "TEXTBOOK_JAR=$TEXTBOOK_JAR: no such file"
		printf '%s\n' "$TEXTBOOK_JAR"
		return 0
	fi
	bench_build_jar "$TEXTBOOK_DIR" textbook-catalog -o
}

JAR="$(bench_jar)"
TB_JAR="$(textbook_jar)"
T="$BENCH_TMP"
mkdir -p "$T/ours" "$T/textbook"
DB_S="$T/ours/catalog.db"
DB_T="$T/textbook/textbook.db"
PORT_S="$(bench_free_port)"
MGMT_S="$(bench_free_port)"
PORT_T="$(bench_free_port)"
REDIS_PORT="$(bench_free_port)"
bench_distinct_ports "$PORT_S" "$MGMT_S" "$PORT_T" "$REDIS_PORT"
log "ours: $JAR on $PORT_S (management $MGMT_S); textbook: $TB_JAR on $PORT_T; redis $REDIS_PORT; temp dir $T"

status_of() { curl -s -m 5 -o /dev/null -w '%{http_code}' "$1"; }

# ------------------------------------------------------------------------------ set-up
bench_start_redis "$REDIS_PORT"
if [ "$DB_KIND" = postgresql ]; then
	SCHEMA_T="textbook_$$"
	bench_pg_schema "$SCHEMA_T"
	TB_DB_ENV=("SPRING_DATASOURCE_URL=jdbc:postgresql://127.0.0.1:5432/test?currentSchema=$SCHEMA_T" SPRING_DATASOURCE_USERNAME=postgres)
	bench_pg_schema "ours_$$"
	OURS_DB_ENV=("${PG_ENV[@]}")
	# tb_sql SQL: SQL on the textbook's tables.
	tb_sql() { bench_psql "SET search_path = $SCHEMA_T; $1"; }
else
	TB_DB_ENV=("SPRING_DATASOURCE_URL=jdbc:sqlite:$DB_T")
	OURS_DB_ENV=()
	tb_sql() { sqlite3 "$DB_T" "$1"; }
fi
# shellcheck disable=SC2086 # OURS_ENV is a list of assignments
bench_start_app "$JAR" "$PORT_S" "$REDIS_PORT" "$DB_S" "$T/app-ours.log" MANAGEMENT_PORT="$MGMT_S" "${OURS_DB_ENV[@]}" ${OURS_ENV:-}
log "seeding $N products into ours"
bench_seed "$PORT_S" "$N" "$T/ids.txt"
[ "$(head -n 1 "$T/ids.txt")" = 1 ] && [ "$(tail -n 1 "$T/ids.txt")" = "$N" ] || die "ours: the seeded ids are not 1..$N"

# The textbook app: Boot's defaults but for the addresses; it seeds ids 1..N itself once it
# has started (after its web server), so it is up when its last product answers.
env SERVER_PORT="$PORT_T" "${TB_DB_ENV[@]}" SPRING_DATA_REDIS_HOST=127.0.0.1 \
	SPRING_DATA_REDIS_PORT="$REDIS_PORT" SEED_COUNT="$N" \
	java ${BENCH_JAVA_OPTS:-} -jar "$TB_JAR" >>"$T/app-textbook.log" 2>&1 &
TB_PID=$!
bench_track "$TB_PID"
deadline=$((SECONDS + ${BENCH_START_WAIT:-90}))
until [ "$(status_of "http://127.0.0.1:$PORT_T/products/$N")" = 200 ]; do
	kill -0 "$TB_PID" 2>/dev/null || { tail -n 40 "$T/app-textbook.log" >&2; die "the textbook app exited during start-up"; }
	[ "$SECONDS" -lt "$deadline" ] || { tail -n 40 "$T/app-textbook.log" >&2; die "the textbook app did not serve product $N within ${BENCH_START_WAIT:-90} s"; }
	sleep 0.5
done
[ "$(tb_sql "SELECT count(*) || '|' || min(id) || '|' || max(id) FROM products")" = "$N|1|$N" ] || die "textbook: its table does not hold ids 1..$N"

CEILING="http://127.0.0.1:$MGMT_S"
[ "$(status_of "$CEILING/actuator/info")" = 200 ] || die "no /actuator/info on our management port $MGMT_S"

# The fill: every id read once through each app.
bench_fill_cache "$PORT_S" "$N"
bench_fill_cache "$PORT_T" "$N"

# ------------------------------------------------------------------------------ checks
# Same fields, same values (name, description, price, stock), on the first and the last id.
fields() { grep -o '"[a-z_]*":' | tr -d '":' | sort | paste -sd, -; }
value() { sed -n "s/.*\"$1\":\(\"[^\"]*\"\|[^,}]*\).*/\1/p"; }
for id in 1 "$N"; do
	ours="$(curl -s -m 5 "http://127.0.0.1:$PORT_S/products/$id")"
	tb="$(curl -s -m 5 "http://127.0.0.1:$PORT_T/products/$id")"
	[ "$(fields <<<"$ours")" = "$(fields <<<"$tb")" ] \
		|| die "product $id: fields differ: ours $(fields <<<"$ours"), textbook $(fields <<<"$tb")"
	for f in id name description stock_quantity; do
		[ "$(value "$f" <<<"$ours")" = "$(value "$f" <<<"$tb")" ] || die "product $id: $f differs: ours $ours, textbook $tb"
	done
	awk -v x="$(value price <<<"$ours")" -v y="$(value price <<<"$tb")" 'BEGIN { exit !(x + 0 == y + 0) }' \
		|| die "product $id: price differs: ours $ours, textbook $tb"
done
log "check: both apps answer the same product fields ($(curl -s -m 5 "http://127.0.0.1:$PORT_T/products/1" | fields))"
: >"$T/hits.curl"
for i in $(seq 1 "$N"); do
	printf 'url = "http://127.0.0.1:%s/products/%s"\noutput = "/dev/null"\nwrite-out = "%%header{x-cache}\\n"\nmax-time = 10\n' "$PORT_S" "$i" >>"$T/hits.curl"
	if [ "$i" -lt "$N" ]; then echo next >>"$T/hits.curl"; fi
done
# Our change feed may still drop a key the seeding changed after the fill: a read that misses
# fills it again, so read all until every one is a hit (at most 10 passes).
for pass in $(seq 1 10); do
	hits="$(curl -s -K "$T/hits.curl" | grep -c '^HIT$' || true)"
	[ "$hits" -lt "$N" ] || break
	log "ours: $hits of $N products answered X-Cache: HIT (pass $pass); reading them again"
	sleep 1
done
[ "$hits" -eq "$N" ] || die "ours: $hits of $N products answered X-Cache: HIT after 10 passes"
keys="$(redis-cli -p "$REDIS_PORT" --scan --pattern 'products::*' | wc -l)"
[ "$keys" -eq "$N" ] || die "textbook: Redis holds $keys keys products::*, not $N"
# The textbook's hit does not touch the database: product 1 deleted from its database (and put
# back after) still answers 200, from Redis.
tb_sql 'CREATE TABLE kept AS SELECT * FROM products WHERE id = 1; DELETE FROM products WHERE id = 1;'
deleted_status="$(status_of "http://127.0.0.1:$PORT_T/products/1")"
tb_sql 'INSERT INTO products SELECT * FROM kept; DROP TABLE kept;'
[ "$deleted_status" = 200 ] || die "textbook: product 1, deleted from its database, answered $deleted_status (not from Redis)"
log "check: ours answers $N of $N from Redis (X-Cache: HIT); the textbook holds $keys keys and served product 1 (deleted from its database) with 200"

# The mix's PUT, as mix.lua sends it, answers 200 on both apps and the next GET has the new price
# (product N, which the warm-up writes again anyway).
if [ "$MIX" = 1 ]; then
	for port in "$PORT_S" "$PORT_T"; do
		status="$(curl -s -m 5 -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
			-d '{"price":12.34}' "http://127.0.0.1:$port/products/$N")"
		[ "$status" = 200 ] || die "PUT /products/$N on port $port answered $status"
		curl -s -m 5 "http://127.0.0.1:$port/products/$N" | grep -q '"price":12.34' \
			|| die "GET /products/$N on port $port after the PUT: not the new price"
	done
	log "check: the mix's PUT answers 200 on both apps, and the GET after it has the new price"
fi

# ------------------------------------------------------------------------------ warm-up
# Several passes: in one pass of 30 s the textbook was still getting faster round after round
# (10,800, 15,300, 17,200 req/s), and a JVM that waits while the others run is not compiled yet.
log "warm-up $WARM_PASSES x ${WARM_S} s of each app ($((WARM_S / 2)) s of the ceiling), not measured"
for pass in $(seq 1 "$WARM_PASSES"); do
	bench_run_wrk "warm-a-$pass" "$CEILING" get-random.lua $((WARM_S / 2)) 1 1 warm-a /actuator/info
	bench_run_wrk "warm-b-$pass" "http://127.0.0.1:$PORT_S" get-random.lua "$WARM_S" 1 "$N" warm-b
	bench_run_wrk "warm-t-$pass" "http://127.0.0.1:$PORT_T" get-random.lua "$WARM_S" 1 "$N" warm-t
	if [ "$MIX" = 1 ]; then
		bench_run_wrk "warm-m-$pass" "http://127.0.0.1:$PORT_S" mix.lua "$WARM_S" 1 "$N" warm-m
		bench_run_wrk "warm-x-$pass" "http://127.0.0.1:$PORT_T" mix.lua "$WARM_S" 1 "$N" warm-x
	fi
done

# ------------------------------------------------------------------------------ measured
if [ "$MIX" = 1 ]; then PHASES="a b t m x"; else PHASES="a b t"; fi
bench_wait_quiet
LOAD_BEFORE="$(uptime)"
MEASURE_START="$(date -u +%H:%M:%S)"
mark0="$(bench_cpu_mark)"
s0=$SECONDS
for r in $(seq 1 "$ROUNDS"); do
	if [ "$MIX" = 1 ]; then
		if [ $((r % 2)) = 1 ]; then order="a b t m x"; else order="x m t b a"; fi
	elif [ $((r % 2)) = 1 ]; then order="a b t"; else order="t b a"; fi
	for p in $order; do
		case "$p" in
			a) bench_run_wrk "a-$r" "$CEILING" get-random.lua "$PHASE_S" 1 1 a /actuator/info ;;
			b) bench_run_wrk "b-$r" "http://127.0.0.1:$PORT_S" get-random.lua "$PHASE_S" 1 "$N" b ;;
			t) bench_run_wrk "t-$r" "http://127.0.0.1:$PORT_T" get-random.lua "$PHASE_S" 1 "$N" t ;;
			m) bench_run_wrk "m-$r" "http://127.0.0.1:$PORT_S" mix.lua "$PHASE_S" 1 "$N" m ;;
			x) bench_run_wrk "x-$r" "http://127.0.0.1:$PORT_T" mix.lua "$PHASE_S" 1 "$N" x ;;
		esac
	done
done
mark1="$(bench_cpu_mark)"
OTHERS="$(bench_cpu_others "$mark0" "$mark1" $((SECONDS - s0)))"
MEASURE_END="$(date -u +%H:%M:%S)"
LOAD_AFTER="$(uptime)"

# ------------------------------------------------------------------------------ summary
files() { bench_rounds "$1"; }
rps() { bench_rounds_rps "$1"; }
pct() { bench_merged_percentile "$2" $(files "$1"); }
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { printf "%.2f", (y > 0) ? x / y : 0 }'; }
round_rps() { bench_wrk_field "$T/wrk-$1-$2.txt" rps | cut -d. -f1; }

mkdir -p "$(dirname "$OUT")"
{
	echo "bench/textbook.sh  $(date -u +%Y-%m-%d) $MEASURE_START-$MEASURE_END UTC  commit $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)  DB=$DB_KIND  N=$N  wrk -t$THREADS -c$CONNS  ${PHASE_S}s x $ROUNDS rounds ($PHASES, then reversed, alternating)  warm-up $WARM_PASSES x ${WARM_S}s"
	echo "ours: $(basename "$JAR") (near cache off${OURS_ENV:+; $OURS_ENV}); textbook: $(basename "$TB_JAR"); machine: $(nproc) cores; $(java -version 2>&1 | head -n 1); JVM flags: ${BENCH_JAVA_OPTS:-none}; log levels: Boot's default (INFO) in both${OURS_ENV:+, but for what OURS_ENV sets} (at INFO ours logs a line per hit, the textbook none)"
	echo "HIT%: ours' answers with X-Cache: HIT (the textbook sends no such header; its hits were checked before the warm-up)"
	printf '%-40s %9s %8s %8s %7s %6s %20s\n' phase "req/s" "p50 ms" "p99 ms" non-2xx "HIT%" "req/s per round"
	for p in $PHASES; do
		case "$p" in
			a) desc="a ceiling: ours /actuator/info" ;;
			b) desc="b ours: GET by id, Redis hits" ;;
			t) desc="t textbook: GET by id, Redis hits" ;;
			m) desc="m ours: 95/5 mix" ;;
			x) desc="x textbook: 95/5 mix" ;;
		esac
		per="$(for r in $(seq 1 "$ROUNDS"); do round_rps "$p" "$r"; done | paste -sd/ -)"
		hitpct="-"
		[ "$p" != b ] || hitpct="$(awk -v h="$(bench_rounds_sum b hit)" -v r="$(bench_rounds_sum b requests)" 'BEGIN { printf "%.1f", (r > 0) ? 100 * h / r : 0 }')"
		printf '%-40s %9s %8s %8s %7s %6s %20s\n' "$desc" "$(rps "$p")" "$(pct "$p" 50)" "$(pct "$p" 99)" \
			"$(bench_rounds_sum "$p" non2xx)" "$hitpct" "$per"
	done
	echo "ratios (req/s): b/t $(ratio "$(rps b)" "$(rps t)") (goal >= 1.3)  b/a $(ratio "$(rps b)" "$(rps a)") (goal >= 0.55)  t/a $(ratio "$(rps t)" "$(rps a)")"
	echo "p99: b/t $(ratio "$(pct b 99)" "$(pct t 99)")  b/a $(ratio "$(pct b 99)" "$(pct a 99)")"
	if [ "$MIX" = 1 ]; then
		echo "the mix next to its own app's hits (issue #26 goal 2: >= 0.7, p99 <= 3x): ours m/b $(ratio "$(rps m)" "$(rps b)"), p99 $(ratio "$(pct m 99)" "$(pct b 99)")x; textbook x/t $(ratio "$(rps x)" "$(rps t)"), p99 $(ratio "$(pct x 99)" "$(pct t 99)")x; mix req/s ours/textbook m/x $(ratio "$(rps m)" "$(rps x)")"
	fi
	echo "host: $FREE_NOTE; CPU of processes this run did not start, during the rounds: $OTHERS (cores)"
	echo "uptime before the rounds: $LOAD_BEFORE"
	echo "uptime after the rounds:  $LOAD_AFTER"
} | tee "$OUT"

failed=0
# The textbook's mix may answer a PUT that raced another of the same product with an error
# (its @Version): counted in the table, not a failure of the run.
for f in $(files a) $(files b) $(files t) $([ "$MIX" != 1 ] || files m); do
	[ "$(bench_wrk_field "$f" non2xx)" -eq 0 ] || failed=1
	[ "$(bench_wrk_field "$f" err_timeout)" -eq 0 ] || failed=1
	[ "$(bench_wrk_field "$f" err_read)" -eq 0 ] || failed=1
done
[ "$failed" = 0 ] || { echo "FAIL: some measured requests got a non-2xx answer or a socket error"; exit 1; }
