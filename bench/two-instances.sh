#!/usr/bin/env bash
# Two instances of the service on one database and one Redis, as behind a load balancer:
# writers go through instance A, readers through instance B. Reports, per database:
#  - stale reads: GETs on B that started after a PUT on A was acknowledged with version N and
#    answered an older version (goal: 0);
#  - throughput of the writes (A) and of the reads (B);
#  - the staleness window: after each acknowledged PUT, the writer reads the product on B until
#    B answers that version; the window is the time from the acknowledgment to the start of the
#    first read that saw it (0 when the first read did), as p50 / p99 / p99.9 / max over writes;
#  - stale after quiet: QUIET_MS (100) after the last write, every product read once more on B
#    (goal: 0).
# NEAR ("0 1"): the runs per database, with the near cache off (0) and on (1, CACHE_NEAR_ENABLED).
# With the near cache off a stale read fails the run; with it on, B may answer an old version
# for the window (the invalidation's way from Redis to B), so only stale after quiet does.
# Databases: SQLite (both instances on one file) and PostgreSQL (127.0.0.1:5432, trust auth,
# database test, in a schema made for the run and dropped after it); PG=0 skips PostgreSQL.
# Redis: a private redis-server on a free port. DURATION_S (20) of load per database after
# WARM_S (20) of unmeasured warm-up; WRITERS (2) and READERS (8) threads; PRODUCTS (50).
# Exit status 1 on any 5xx, any stale read after quiet, or (near cache off) any stale read.
source "$(dirname "$0")/lib.sh"
bench_init
bench_need redis-server
bench_need python3

DURATION_S="${DURATION_S:-20}"
WARM_S="${WARM_S:-20}"
WRITERS="${WRITERS:-2}"
READERS="${READERS:-8}"
PRODUCTS="${PRODUCTS:-50}"
QUIET_MS="${QUIET_MS:-100}"
NEAR="${NEAR:-0 1}"
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
	local near=0
	case " $* " in *" CACHE_NEAR_ENABLED=true "*) near=1 ;; esac
	if ! python3 - "$a_port" "$b_port" "$ids" "$WARM_S" "$DURATION_S" "$WRITERS" "$READERS" "$name" "$QUIET_MS" "$near" <<'PY'
import http.client, json, random, sys, threading, time
a_port, b_port, ids_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
warm, duration, writers, readers, name = float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), sys.argv[8]
quiet_ms, near = float(sys.argv[9]), sys.argv[10] == "1"
ids = [int(line) for line in open(ids_file) if line.strip()]
acked = {}            # id -> highest version acknowledged by A
acked_at = {}         # id -> when that version was acknowledged (monotonic s)
lock = threading.Lock()
counts = {"reads": 0, "writes": 0, "stale": 0, "5xx": 0, "hits": 0}
windows = []          # per acknowledged write: ms until B answered it
stale_lags = []       # per stale read: ms from the acknowledgment it missed to the read's start
measuring = threading.Event()
stop = threading.Event()

def request(conn, method, path, body=None):
    conn.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
    response = conn.getresponse()
    return response.status, response.getheader("X-Cache"), response.read()

def writer():
    conn = http.client.HTTPConnection("127.0.0.1", a_port, timeout=30)
    probe = http.client.HTTPConnection("127.0.0.1", b_port, timeout=30)
    while not stop.is_set():
        pid = random.choice(ids)
        status, _, body = request(conn, "PUT", "/products/%d" % pid, json.dumps({"stock_quantity": random.randrange(100000)}))
        acked_time = time.monotonic()
        if status >= 500:
            counts["5xx"] += 1
        if status == 200:
            version = json.loads(body)["version"]
            with lock:
                if version > acked.get(pid, -1):
                    acked[pid] = version
                    acked_at[pid] = acked_time
                if measuring.is_set():
                    counts["writes"] += 1
            # The staleness window of this write, seen from B.
            first = True
            while True:
                started = time.monotonic()
                status, _, body = request(probe, "GET", "/products/%d" % pid)
                if status == 200 and json.loads(body)["version"] >= version:
                    break
                first = False
                if started - acked_time > 5:
                    break
            if measuring.is_set():
                with lock:
                    windows.append(0.0 if first else (started - acked_time) * 1000)

def reader():
    conn = http.client.HTTPConnection("127.0.0.1", b_port, timeout=30)
    while not stop.is_set():
        pid = random.choice(ids)
        with lock:
            must_see = acked.get(pid, -1)
            must_see_at = acked_at.get(pid, 0)
        started = time.monotonic()
        status, cache, body = request(conn, "GET", "/products/%d" % pid)
        if status >= 500:
            counts["5xx"] += 1
        if status == 200:
            version = json.loads(body)["version"]
            with lock:
                if version < must_see:
                    counts["stale"] += 1
                    stale_lags.append((started - must_see_at) * 1000)
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
# Quiet: no write for QUIET_MS, then every product once more on B.
time.sleep(quiet_ms / 1000)
conn = http.client.HTTPConnection("127.0.0.1", b_port, timeout=30)
stale_after_quiet = 0
for pid in ids:
    status, _, body = request(conn, "GET", "/products/%d" % pid)
    if status != 200 or json.loads(body)["version"] < acked.get(pid, -1):
        stale_after_quiet += 1

def pct(values, p):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]

print("RESULT %s near_cache=%s writes_per_s=%.0f reads_per_s=%.0f hit_ratio=%.2f stale_reads=%d stale_read_lag_max_ms=%.1f "
      "window_ms_p50=%.2f p99=%.2f p99.9=%.2f max=%.2f (over %d writes, %d with a window > 0) stale_after_quiet=%d errors_5xx=%d" % (
    name, "on" if near else "off", counts["writes"] / elapsed, counts["reads"] / elapsed,
    counts["hits"] / max(counts["reads"], 1), counts["stale"], max(stale_lags, default=0),
    pct(windows, 50), pct(windows, 99), pct(windows, 99.9), max(windows, default=0), len(windows),
    sum(1 for w in windows if w > 0), stale_after_quiet, counts["5xx"]))
sys.exit(1 if counts["5xx"] or stale_after_quiet or (counts["stale"] and not near) else 0)
PY
	then
		status=1
	fi
	log "$name: load average after: $(bench_loadavg)"
	bench_kill9 "$a_pid"
	bench_kill9 "$b_pid"
}

for near in $NEAR; do
	if [ "$near" = 1 ]; then suffix="-near" near_env=(CACHE_NEAR_ENABLED=true); else suffix="" near_env=(); fi
	run "sqlite$suffix" "${near_env[@]}"
	if [ "${PG:-1}" = 1 ]; then
		bench_need psql postgresql-client
		schema="bench_two_$$_$near"
		psql -h 127.0.0.1 -U postgres -d test -qc "CREATE SCHEMA $schema" >/dev/null
		run "postgresql$suffix" DATABASE_URL="jdbc:postgresql://127.0.0.1:5432/test?currentSchema=$schema" \
			SPRING_DATASOURCE_USERNAME=postgres "${near_env[@]}"
		psql -h 127.0.0.1 -U postgres -d test -qc "DROP SCHEMA $schema CASCADE" >/dev/null
	fi
done
exit "$status"
