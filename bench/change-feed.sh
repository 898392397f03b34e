#!/usr/bin/env bash
# Writes the service never sees (issue #21): how long after a change made with plain SQL, outside
# the service, the API serves it. Two instances (A and B) on one database and one Redis, PRODUCTS
# products cached through both; then CHANGES times: one UPDATE of a random product's price from
# an outside client (Python's sqlite3 module on the SQLite file; a psql session on PostgreSQL),
# and, from the moment the commit returned, reads of that product through A and through B until
# each answers the new price. The delay is the start of the first read that saw it; reported as
# p50 / p99 / max per instance and database (goals: SQLite within 1 s, PostgreSQL p99 <= 250 ms).
# Databases: SQLite and PostgreSQL (127.0.0.1:5432, trust auth, database test, in a schema made
# for the run and dropped after it); PG=0 skips PostgreSQL. WARM (200) changes first, unmeasured.
# Writes bench/results/change-feed.txt. Exit status 1 when a change is not served within 5 s.
source "$(dirname "$0")/lib.sh"
bench_init
bench_need_service
bench_need python3

PRODUCTS="${PRODUCTS:-200}"
CHANGES="${CHANGES:-1000}"
WARM="${WARM:-200}"
OUT="${OUT:-$BENCH_DIR/results/change-feed.txt}"
JAR="$(bench_jar)"
REDIS_PORT="$(bench_free_port)"
bench_start_redis "$REDIS_PORT"
status=0
: >"$BENCH_TMP/results.txt"

run() {
	local name="$1" url="$2" writer="$3"
	shift 3
	local a_port b_port prefix ids
	a_port="$(bench_free_port)"
	b_port="$(bench_free_port)"
	prefix="bench-feed-$name-$$:product:"
	log "$name: instance A on $a_port, B on $b_port, one Redis on $REDIS_PORT"
	bench_start_app "$JAR" "$a_port" "$REDIS_PORT" "$BENCH_TMP/$name.db" "$BENCH_TMP/$name-a.log" \
		CATALOG_CACHE_KEYPREFIX="$prefix" CACHE_LOG_LEVEL=WARN DATABASE_URL="$url"
	bench_start_app "$JAR" "$b_port" "$REDIS_PORT" "$BENCH_TMP/$name.db" "$BENCH_TMP/$name-b.log" \
		CATALOG_CACHE_KEYPREFIX="$prefix" CACHE_LOG_LEVEL=WARN DATABASE_URL="$url"
	ids="$BENCH_TMP/$name.ids"
	bench_seed "$a_port" "$PRODUCTS" "$ids"
	log "$name: load average before: $(bench_loadavg)"
	if ! python3 - "$a_port" "$b_port" "$ids" "$CHANGES" "$WARM" "$name" "$writer" "$@" \
		>>"$BENCH_TMP/results.txt" <<'PY'
import http.client, json, random, subprocess, sys, time
a_port, b_port, ids_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
changes, warm, name, writer = int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], sys.argv[7]
ids = [int(line) for line in open(ids_file) if line.strip()]
clients = {"A": http.client.HTTPConnection("127.0.0.1", a_port, timeout=10),
           "B": http.client.HTTPConnection("127.0.0.1", b_port, timeout=10)}

def read(instance, pid):
    c = clients[instance]
    c.request("GET", "/products/%d" % pid)
    r = c.getresponse()
    body = r.read()
    if r.status != 200:
        raise SystemExit("%s: GET %d on %s answered %d" % (name, pid, instance, r.status))
    return json.loads(body), r.getheader("X-Cache")

if writer == "sqlite":
    import sqlite3
    db = sqlite3.connect(sys.argv[8], timeout=10, isolation_level=None)
    def update(pid, cents):
        db.execute("UPDATE products SET price_cents = ? WHERE id = ?", (cents, pid))
else:
    psql = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", sys.argv[8]],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    def update(pid, cents):
        psql.stdin.write("UPDATE products SET price_cents = %d WHERE id = %d;\n\\echo done\n" % (cents, pid))
        psql.stdin.flush()
        if psql.stdout.readline().strip() != "done":
            raise SystemExit("%s: psql failed" % name)

for pid in ids:
    for instance in clients:
        read(instance, pid)
        read(instance, pid)

delays = {"A": [], "B": []}
hits_before = 0
late = 0
for n in range(warm + changes):
    pid = random.choice(ids)
    cents = random.randrange(100, 10_000_000)
    # The old price is cached on both instances before the change.
    for instance in clients:
        _, cache = read(instance, pid)
        hits_before += cache == "HIT"
    update(pid, cents)
    committed = time.perf_counter()
    for instance in clients:
        while True:
            started = time.perf_counter()
            body, _ = read(instance, pid)
            if round(float(body["price"]) * 100) == cents:
                break
            if started - committed > 5:
                late += 1
                break
            time.sleep(0.002)
        if n >= warm:
            delays[instance].append((started - committed) * 1000)

def q(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]

for instance in clients:
    d = delays[instance]
    print("%-10s instance %s  changes %5d  p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms" %
          (name, instance, len(d), q(d, 50), q(d, 99), max(d)))
print("%-10s cached before each change: %.1f %% of reads were hits; not served within 5 s: %d" %
      (name, 100.0 * hits_before / (2 * (warm + changes)), late))
sys.exit(1 if late else 0)
PY
	then
		status=1
	fi
	log "$name: load average after: $(bench_loadavg)"
}

run sqlite "jdbc:sqlite:$BENCH_TMP/sqlite.db" sqlite "$BENCH_TMP/sqlite.db"
if [ "${PG:-1}" = 1 ]; then
	bench_need psql postgresql-client
	schema="bench_feed_$$"
	bench_pg_schema "$schema"
	run postgresql "jdbc:postgresql://127.0.0.1:5432/test?user=postgres&currentSchema=$schema" postgresql \
		"host=127.0.0.1 user=postgres dbname=test options=--search_path=$schema"
fi

{
	echo "bench/change-feed.sh  $(date -u +%Y-%m-%dT%H:%MZ)  commit $(git -C "$BENCH_DIR/.." rev-parse --short HEAD)  PRODUCTS=$PRODUCTS CHANGES=$CHANGES WARM=$WARM"
	echo "machine: $(nproc) cores; $(java -version 2>&1 | head -n 1)"
	cat "$BENCH_TMP/results.txt"
} | tee "$OUT"
exit "$status"
