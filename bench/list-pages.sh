#!/usr/bin/env bash
# List page benchmark: GET /products pages on a catalog of N (default 100,000) products,
# uncached and cached, measured side by side in one run on the same jar and SQLite file.
#
# Two instances of the service run on one SQLite file, each idle while the other is measured:
#  A  uncached: REDIS_PORT points at a port where nothing listens, so every page is read from
#     SQLite (count and page query; X-Cache: BYPASS).
#  B  cached: the service with its own redis-server; pages come from Redis (X-Cache: HIT);
#     CACHE_PAGE_TTL_SECONDS=3600 so that what the warm-up cached is still there.
# The N products are inserted with sqlite3 straight into the file (after B's start has run
# the migrations), names "Item <k> <colour>" (20 colours, 25,000 values of k) and prices
# spread over 1.00 .. 1000.99.
# Three requests, each over PAGES random pages (default 200, so B holds them all after its
# warm-up):
#  list    /products?size=20&sort=-price&page=R          (price index, backwards)
#  search  /products?q=teal&size=20&page=R               (contains: a scan of name_lower;
#                                                          5% of the rows match)
#  name    /products?name=item%20<k>%20<colour>&size=20   (exact name: name_lower index; one
#                                                          page, the name picked at random
#                                                          per request is not possible in
#                                                          wrk's path, so one name)
# For each: A then B for RUN_S seconds each (wrk -t$THREADS -c$CONNS), after warming both
# (the JIT needs ~30 s of load to reach speed). Prints each phase's RESULT line, the
# cached/uncached throughput ratio, the CPU of processes this script did not start during
# each phase, and SQLite's query plan of each query (to show which index it uses).
#
# Usage: bench/list-pages.sh          (about 4 minutes)
# Env:   N=100000 PAGES=200 THREADS=2 CONNS=16 WARM_S=30 RUN_S=10 BENCH_QUIET_WAIT=60
#        BENCH_KEEP=0 (1 keeps logs and the database) BENCH_JAVA_OPTS=
source "$(dirname "$0")/lib.sh"

N="${N:-100000}"
PAGES="${PAGES:-200}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-16}"
WARM_S="${WARM_S:-30}"
RUN_S="${RUN_S:-10}"
export BENCH_DIR

bench_init
bench_need wrk wrk
bench_need_service
bench_need sqlite3 sqlite3
bench_need java openjdk-17-jdk-headless

bench_single_service
API_B="$API_PORT"
API_A="$(bench_free_port)"
DEAD_REDIS="$(bench_free_port)"
mkdir -p "$(dirname "$DB")"

bench_start_redis "$REDIS_PORT"
log "starting B (cached) on $API_B"
# Pages live an hour here, so that the measured phases see the pages the warm-up cached (the
# default 60 s would expire them while A is measured, and B would measure misses).
bench_start_app "$JAR" "$API_B" "$REDIS_PORT" "$DB" "$T/service-b.log" CACHE_PAGE_TTL_SECONDS=3600

log "inserting $N products with sqlite3"
sqlite3 "$DB" <<SQL
PRAGMA busy_timeout = 10000;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N),
colours(c, name) AS (VALUES (0,'red'),(1,'green'),(2,'blue'),(3,'teal'),(4,'amber'),(5,'olive'),(6,'navy'),
  (7,'coral'),(8,'ivory'),(9,'plum'),(10,'sand'),(11,'slate'),(12,'mint'),(13,'rust'),(14,'pearl'),
  (15,'ochre'),(16,'lilac'),(17,'jade'),(18,'ruby'),(19,'cream'))
INSERT INTO products (name, name_lower, description, price_cents, stock_quantity, created_at, updated_at, version)
SELECT 'Item ' || (i % 25000) || ' ' || upper(substr(colours.name, 1, 1)) || substr(colours.name, 2),
       'item ' || (i % 25000) || ' ' || colours.name,
       'seeded for the list benchmark', 100 + (i * 7919) % 100000, i % 7,
       1700000000000 + i * 1000, 1700000000000 + i * 1000, 0
FROM n JOIN colours ON colours.c = i % 20;
ANALYZE;
SQL
log "$(sqlite3 "$DB" 'SELECT count(*) FROM products') products in $DB"

log "starting A (uncached) on $API_A, Redis pointed at the unused port $DEAD_REDIS"
bench_start_app "$JAR" "$API_A" "$DEAD_REDIS" "$DB" "$T/service-a.log"
A_PID="$APP_PID"

LIST="/products?size=20&sort=-price"
SEARCH="/products?q=teal&size=20"
NAME="/products?name=item%20123%20teal&size=20"

run() { # run LABEL PORT PATH PAGES SECONDS
	local out="$T/wrk-$1.txt" before after
	before="$(bench_cpu_mark)"
	wrk -t"$THREADS" -c"$CONNS" -d"${5}s" --latency -s "$BENCH_DIR/wrk/list-pages.lua" "http://127.0.0.1:$2" \
		-- "$3" "$4" "$1" >"$out" 2>&1 || die "wrk failed: $(cat "$out")"
	after="$(bench_cpu_mark)"
	echo "$(grep '^RESULT ' "$out") $(bench_cpu_others "$before" "$after" "$5")"
}

bench_wait_quiet
log "warming A and B (${WARM_S} s each, all three requests; B fills its page cache)"
for path in "$LIST" "$SEARCH" "$NAME"; do
	run warm-a "$API_A" "$path" "$PAGES" "$((WARM_S / 3))" >/dev/null
	run warm-b "$API_B" "$path" "$PAGES" "$((WARM_S / 3))" >/dev/null
done

declare -A RPS
for kind in list search name; do
	case "$kind" in
		list) path="$LIST"; pages="$PAGES" ;;
		search) path="$SEARCH"; pages="$PAGES" ;;
		name) path="$NAME"; pages=1 ;;
	esac
	bench_wait_quiet
	for side in a b; do
		port="$API_A"; [ "$side" = b ] && port="$API_B"
		line="$(run "$kind-$side" "$port" "$path" "$pages" "$RUN_S")"
		echo "$line"
		RPS["$kind-$side"]="$(sed -n 's/.* rps=\([0-9.]*\).*/\1/p' <<<"$line")"
	done
done

echo
echo "SUMMARY (N=$N, pages of 20, wrk -t$THREADS -c$CONNS, ${RUN_S} s per phase; A uncached, B cached):"
for kind in list search name; do
	awk -v k="$kind" -v a="${RPS[$kind-a]}" -v b="${RPS[$kind-b]}" \
		'BEGIN { printf "  %-6s uncached %8.1f req/s   cached %8.1f req/s   cached/uncached %.1fx\n", k, a, b, b / a }'
done

echo
echo "One cold request each on A (count + page query), curl time_total in s:"
for path in "$LIST&page=150" "$SEARCH&page=150" "$NAME&page=0" "/products?size=20&min_price=500&max_price=510&in_stock=true&sort=name&page=0"; do
	printf '  %-80s %s\n' "$path" "$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$API_A$path")"
done

echo
echo "SQLite query plans (what the service's queries do, written as SQL):"
for q in "SELECT id FROM products ORDER BY price_cents DESC, id DESC LIMIT 20 OFFSET 3000" \
	"SELECT count(*) FROM products" \
	"SELECT id FROM products WHERE name_lower LIKE '%teal%' ESCAPE '\\' ORDER BY id LIMIT 20 OFFSET 3000" \
	"SELECT id FROM products WHERE name_lower = 'item 123 teal' ORDER BY id LIMIT 20" \
	"SELECT id FROM products WHERE price_cents BETWEEN 50000 AND 51000 AND stock_quantity > 0 ORDER BY name_lower, id LIMIT 20"; do
	echo "  $q"
	sqlite3 "$DB" "EXPLAIN QUERY PLAN $q" | sed 's/^/      /'
done
echo
bench_load_note
