#!/usr/bin/env bash
# Two instances of the service on one database and one Redis, as behind a load balancer:
# writers go through instance A, readers through instance B. Reports, per database:
#  - stale reads: GETs on B that started after a PUT on A was acknowledged with version N and
#    answered an older version (goal: 0);
#  - throughput of the writes (A) and of the reads (B).
# Databases: SQLite (both instances on one file) and PostgreSQL (127.0.0.1:5432, trust auth,
# database test, in a schema made for the run and dropped after it); PG=0 skips PostgreSQL.
# Redis: a private redis-server on a free port. DURATION_S (20) of load per database after
# WARM_S (20) of unmeasured warm-up; WRITERS (2) and READERS (8) threads; PRODUCTS (50).
# Exit status 1 if any stale read or any 5xx was seen.
source "$(dirname "$0")/lib.sh"
bench_init
bench_need redis-server
bench_need python3

DURATION_S="${DURATION_S:-20}"
WARM_S="${WARM_S:-20}"
WRITERS="${WRITERS:-2}"
READERS="${READERS:-8}"
PRODUCTS="${PRODUCTS:-50}"
JAR="$(bench_jar)"
REDIS_PORT="$(bench_free_port)"
bench_start_redis "$REDIS_PORT"
status=0

run() {
	local name="$1"
	shift
	local a_port b_port prefix ids
	a_port="$(bench_free_port)"
	b_port="$(bench_free_port)"
	prefix="bench-$name-$$:product:"
	log "$name: instance A (writes) on $a_port, B (reads) on $b_port, one Redis on $REDIS_PORT"
	bench_start_app "$JAR" "$a_port" "$REDIS_PORT" "$BENCH_TMP/$name.db" "$BENCH_TMP/$name-a.log" \
		CATALOG_CACHE_KEYPREFIX="$prefix" CACHE_LOG_LEVEL=WARN "$@"
	local a_pid="$APP_PID"
	bench_start_app "$JAR" "$b_port" "$REDIS_PORT" "$BENCH_TMP/$name.db" "$BENCH_TMP/$name-b.log" \
		CATALOG_CACHE_KEYPREFIX="$prefix" CACHE_LOG_LEVEL=WARN "$@"
	local b_pid="$APP_PID"
	ids="$BENCH_TMP/$name.ids"
	bench_seed "$a_port" "$PRODUCTS" "$ids"
	log "$name: load average before: $(bench_loadavg)"
	if ! python3 - "$a_port" "$b_port" "$ids" "$WARM_S" "$DURATION_S" "$WRITERS" "$READERS" "$name" <<'PY'
import http.client, json, random, sys, threading, time
a_port, b_port, ids_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
warm, duration, writers, readers, name = float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), sys.argv[8]
ids = [int(line) for line in open(ids_file) if line.strip()]
acked = {}            # id -> highest version acknowledged by A
lock = threading.Lock()
counts = {"reads": 0, "writes": 0, "stale": 0, "5xx": 0, "hits": 0}
measuring = threading.Event()
stop = threading.Event()

def request(conn, method, path, body=None):
    conn.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
    response = conn.getresponse()
    return response.status, response.getheader("X-Cache"), response.read()

def writer():
    conn = http.client.HTTPConnection("127.0.0.1", a_port, timeout=30)
    while not stop.is_set():
        pid = random.choice(ids)
        status, _, body = request(conn, "PUT", "/products/%d" % pid, json.dumps({"stock_quantity": random.randrange(100000)}))
        if status >= 500:
            counts["5xx"] += 1
        if status == 200:
            version = json.loads(body)["version"]
            with lock:
                acked[pid] = max(acked.get(pid, -1), version)
                if measuring.is_set():
                    counts["writes"] += 1

def reader():
    conn = http.client.HTTPConnection("127.0.0.1", b_port, timeout=30)
    while not stop.is_set():
        pid = random.choice(ids)
        with lock:
            must_see = acked.get(pid, -1)
        status, cache, body = request(conn, "GET", "/products/%d" % pid)
        if status >= 500:
            counts["5xx"] += 1
        if status == 200:
            version = json.loads(body)["version"]
            with lock:
                if version < must_see:
                    counts["stale"] += 1
                if measuring.is_set():
                    counts["reads"] += 1
                    counts["hits"] += cache == "HIT"

threads = [threading.Thread(target=writer) for _ in range(writers)] + [threading.Thread(target=reader) for _ in range(readers)]
for t in threads:
    t.start()
time.sleep(warm)
measuring.set()
start = time.time()
time.sleep(duration)
measuring.clear()
elapsed = time.time() - start
stop.set()
for t in threads:
    t.join()
print("RESULT %s writes_per_s=%.0f reads_per_s=%.0f hit_ratio=%.2f stale_reads=%d errors_5xx=%d" % (
    name, counts["writes"] / elapsed, counts["reads"] / elapsed,
    counts["hits"] / max(counts["reads"], 1), counts["stale"], counts["5xx"]))
sys.exit(1 if counts["stale"] or counts["5xx"] else 0)
PY
	then
		status=1
	fi
	log "$name: load average after: $(bench_loadavg)"
	bench_kill9 "$a_pid"
	bench_kill9 "$b_pid"
}

run sqlite
if [ "${PG:-1}" = 1 ]; then
	bench_need psql postgresql-client
	schema="bench_two_$$"
	psql -h 127.0.0.1 -U postgres -d test -qc "CREATE SCHEMA $schema" >/dev/null
	run postgresql DATABASE_URL="jdbc:postgresql://127.0.0.1:5432/test?currentSchema=$schema" \
		SPRING_DATASOURCE_USERNAME=postgres
	psql -h 127.0.0.1 -U postgres -d test -qc "DROP SCHEMA $schema CASCADE" >/dev/null
fi
exit "$status"
