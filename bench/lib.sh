# Shared helpers of the bench/*.sh scripts; sourced, not run. Everything here talks to
# 127.0.0.1 only and every wait is bounded in time.
#
# After sourcing: bench_init (cd to the repo, temp dir, cleanup trap), then bench_need,
# bench_jar, bench_start_redis, bench_start_app ... Every process started through these
# helpers is killed on exit (by its pid, never by name).

set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
BENCH_PIDS=()
BENCH_PG_SCHEMAS=()   # schemas of the local PostgreSQL made by bench_pg_schema, dropped on exit
BENCH_TMP=""
BENCH_KEEP="${BENCH_KEEP:-0}"   # 1 = keep the temp dir (logs, databases) after the run

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 2; }

bench_cleanup() {
	local pid schema
	for pid in "${BENCH_PIDS[@]:-}"; do
		[ -n "$pid" ] || continue
		kill -9 "$pid" 2>/dev/null || true
	done
	for pid in "${BENCH_PIDS[@]:-}"; do
		[ -n "$pid" ] || continue
		wait "$pid" 2>/dev/null || true
	done
	for schema in "${BENCH_PG_SCHEMAS[@]:-}"; do
		[ -n "$schema" ] || continue
		bench_psql "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
	done
	if [ -n "$BENCH_TMP" ] && [ -d "$BENCH_TMP" ]; then
		if [ "$BENCH_KEEP" = 1 ]; then
			log "kept logs and databases in $BENCH_TMP"
		else
			rm -rf "$BENCH_TMP"
		fi
	fi
}

bench_init() {
	cd "$REPO_DIR"
	BENCH_TMP="$(mktemp -d "${TMPDIR:-/tmp}/bench.XXXXXX")"
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

# Remember a pid for the cleanup on exit.
bench_track() { BENCH_PIDS+=("$1"); }

# Forget a pid (after it was killed and reaped on purpose).
bench_untrack() {
	local i
	for i in "${!BENCH_PIDS[@]}"; do
		[ "${BENCH_PIDS[$i]}" = "$1" ] && unset 'BENCH_PIDS[i]'
	done
	return 0
}

# bench_need CMD [DEBIAN_PACKAGE]: install the package with apt-get when CMD is missing.
BENCH_APT_UPDATED=0
bench_need() {
	local cmd="$1" pkg="${2:-$1}"
	command -v "$cmd" >/dev/null 2>&1 && return 0
	command -v apt-get >/dev/null 2>&1 || die "$cmd is missing and apt-get is not available: install $pkg"
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	log "installing $pkg (for $cmd)"
	if [ "$BENCH_APT_UPDATED" = 0 ]; then
		DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq >&2
		BENCH_APT_UPDATED=1
	fi
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$pkg" >&2
	command -v "$cmd" >/dev/null 2>&1 || die "installing $pkg did not provide $cmd"
}

# What every script that starts the service next to a redis-server of its own needs: the
# server and its CLI, curl for the health checks, ss for the free ports.
bench_need_service() {
	bench_need redis-server redis-server
	bench_need redis-cli redis-tools
	bench_need curl curl
	bench_need ss iproute2
}

# Prints the path of the packaged jar, building it first when it is missing or older than
# anything under src/ or pom.xml. BENCH_JAR=path uses that jar instead (e.g. a copy of the
# jar before a change, to compare both in one sitting).
bench_jar() {
	if [ -n "${BENCH_JAR:-}" ]; then
		[ -f "$BENCH_JAR" ] || die "BENCH_JAR=$BENCH_JAR: no such file"
		printf '%s\n' "$BENCH_JAR"
		return 0
	fi
	bench_build_jar "$REPO_DIR" product-catalog
}

# bench_build_jar DIR PREFIX [MAVEN ARGS...]: prints the path of the Maven project DIR's
# target/PREFIX-*.jar, building it with the repository's wrapper first when it is missing or
# older than anything under DIR/src or DIR/pom.xml (bench/textbook is such a project too).
bench_build_jar() {
	local dir="$1" prefix="$2" jar
	shift 2
	jar="$(ls -t "$dir"/target/"$prefix"-*.jar 2>/dev/null | grep -v -- '-plain\.jar$' | head -n 1 || true)"
	if [ -z "$jar" ] || [ -n "$(find "$dir/src" "$dir/pom.xml" -newer "$jar" -print -quit 2>/dev/null)" ]; then
		log "building $prefix: ./mvnw -q -B -f $dir/pom.xml $* -DskipTests package"
		(cd "$REPO_DIR" && chmod +x mvnw && ./mvnw -q -B -f "$dir/pom.xml" "$@" -DskipTests package >&2) \
			|| die "the build of $prefix failed"
		jar="$(ls -t "$dir"/target/"$prefix"-*.jar | grep -v -- '-plain\.jar$' | head -n 1)"
	fi
	printf '%s\n' "$jar"
}

# True when something accepts TCP connections on 127.0.0.1:PORT.
bench_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Prints a port on 127.0.0.1 that nothing listens on (random, 20000-59999).
bench_free_port() {
	local i p
	for i in $(seq 1 200); do
		p=$((20000 + RANDOM % 40000))
		if ! bench_port_open "$p" && ! ss -Htan "( sport = :$p )" 2>/dev/null | grep -q .; then
			printf '%s\n' "$p"
			return 0
		fi
	done
	die "no free port found"
}

# bench_need_db KIND: dies unless KIND (a script's DB setting) is sqlite or postgresql, and on
# postgresql makes sure psql is there.
bench_need_db() {
	case "$1" in
		sqlite) ;;
		postgresql) bench_need psql postgresql-client ;;
		*) die "DB=$1: sqlite or postgresql" ;;
	esac
}

# bench_psql SQL: runs SQL on the local PostgreSQL (127.0.0.1:5432, trust auth, database test)
# unaligned and quiet, NOTICE lines off; fails on the first error.
bench_psql() { psql -h 127.0.0.1 -U postgres -d test -qAt -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning; $1"; }

# bench_pg_schema NAME: makes the schema NAME of the local PostgreSQL afresh for a service, to
# be dropped on exit (bench_cleanup), and sets PG_ENV to the service's environment for it (one
# assignment a word: its DATABASE_URL and user).
PG_ENV=()
bench_pg_schema() {
	bench_psql "DROP SCHEMA IF EXISTS $1 CASCADE; CREATE SCHEMA $1" >/dev/null
	BENCH_PG_SCHEMAS+=("$1")
	PG_ENV=("DATABASE_URL=jdbc:postgresql://127.0.0.1:5432/test?currentSchema=$1" SPRING_DATASOURCE_USERNAME=postgres)
}

# Dies unless the ports given (from bench_free_port, drawn one at a time) are all different.
bench_distinct_ports() {
	[ "$(printf '%s\n' "$@" | sort -u | wc -l)" -eq "$#" ] || die "port clash, run again"
}

# One service with its own Redis: sets JAR, T (the temp dir), DB, API_PORT, REDIS_PORT (two
# distinct free ports) and BASE, and logs them.
bench_single_service() {
  JAR="$(bench_jar)"
  T="$BENCH_TMP"
  DB="$T/data/catalog.db"
  API_PORT="$(bench_free_port)"
  REDIS_PORT="$(bench_free_port)"
  while [ "$REDIS_PORT" = "$API_PORT" ]; do REDIS_PORT="$(bench_free_port)"; done
  BASE="http://127.0.0.1:$API_PORT"
  log "jar: $JAR; api $API_PORT, private redis $REDIS_PORT; temp dir $T"
}

# bench_start_redis PORT [ARGS...]: starts a private redis-server (no persistence) on
# 127.0.0.1:PORT in the background, with these further arguments (a Cluster node's, say);
# sets REDIS_PID. Never touches any other Redis.
REDIS_PID=""
bench_start_redis() {
	local port="$1" i
	shift
	redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --daemonize no \
		--protected-mode yes --loglevel warning "$@" >>"$BENCH_TMP/redis-$port.log" 2>&1 &
	REDIS_PID=$!
	bench_track "$REDIS_PID"
	for i in $(seq 1 100); do
		if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
			return 0
		fi
		kill -0 "$REDIS_PID" 2>/dev/null || die "redis-server on port $port exited, see $BENCH_TMP/redis-$port.log"
		sleep 0.05
	done
	die "redis-server on port $port did not answer within 5 s"
}

# bench_kill9 PID: SIGKILL one process we started and reap it.
bench_kill9() {
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	bench_untrack "$1"
}

# bench_start_app JAR API_PORT REDIS_PORT DB_FILE LOG [extra env assignments...]: starts the
# service in the background and waits (at most BENCH_START_WAIT s, default 90) for GET /health to
# answer 200. Sets APP_PID. BENCH_JAVA names another java than the one on the PATH.
APP_PID=""
bench_start_app() {
	local jar="$1" api_port="$2" redis_port="$3" db="$4" logfile="$5"
	shift 5
	# The actuator has its own port (MANAGEMENT_PORT): a free one unless the caller set it.
	local management_port="${MANAGEMENT_PORT:-$(bench_free_port)}"
	# Redis hits are measured as such: the near cache (on by default where Redis supports it)
	# only where a caller asks for it (CACHE_NEAR_ENABLED=true among the extra assignments).
	env -u API_KEY API_PORT="$api_port" MANAGEMENT_PORT="$management_port" REDIS_HOST=127.0.0.1 REDIS_PORT="$redis_port" \
		DATABASE_URL="jdbc:sqlite:$db" CACHE_TTL_SECONDS="${CACHE_TTL_SECONDS:-3600}" \
		CACHE_NEAR_ENABLED="${CACHE_NEAR_ENABLED:-false}" "$@" \
		"${BENCH_JAVA:-java}" ${BENCH_JAVA_OPTS:-} -jar "$jar" >>"$logfile" 2>&1 &
	APP_PID=$!
	bench_track "$APP_PID"
	local deadline=$((SECONDS + ${BENCH_START_WAIT:-90}))
	while [ "$SECONDS" -lt "$deadline" ]; do
		if curl -fsS -m 2 "http://127.0.0.1:$api_port/health" >/dev/null 2>&1; then
			return 0
		fi
		if ! kill -0 "$APP_PID" 2>/dev/null; then
			tail -n 40 "$logfile" >&2
			die "the service exited during start-up (log: $logfile)"
		fi
		sleep 0.2
	done
	tail -n 40 "$logfile" >&2
	die "the service did not answer /health within ${BENCH_START_WAIT:-90} s (log: $logfile; a loaded machine may need BENCH_START_WAIT=240)"
}

# bench_seed API_PORT COUNT OUT_IDS: creates COUNT products over one keep-alive curl and writes
# the ids it got back (one a line) to OUT_IDS. Fails unless every request answered 201.
bench_seed() {
	local api_port="$1" count="$2" out="$3" cfg="$BENCH_TMP/seed.curl" i
	: >"$cfg"
	for i in $(seq 1 "$count"); do
		printf 'url = "http://127.0.0.1:%s/products"\nrequest = "POST"\nheader = "Content-Type: application/json"\ndata = "{\\"name\\":\\"seed-%s\\",\\"description\\":\\"seeded for the benchmark\\",\\"price\\":%s.%02d,\\"stock_quantity\\":%s}"\nwrite-out = " %%{http_code}\\n"\nmax-time = 10\n' \
			"$api_port" "$i" "$((i % 500 + 1))" "$((i % 100))" "$((i % 50))" >>"$cfg"
		if [ "$i" -lt "$count" ]; then printf 'next\n' >>"$cfg"; fi
	done
	curl -s -K "$cfg" >"$BENCH_TMP/seed.out" || true
	local created
	created="$(grep -c ' 201$' "$BENCH_TMP/seed.out" || true)"
	[ "$created" -eq "$count" ] || die "seeding: $created of $count products created (see $BENCH_TMP/seed.out)"
	grep ' 201$' "$BENCH_TMP/seed.out" | sed -n 's/^{"id":\([0-9][0-9]*\),.*/\1/p' >"$out"
	[ "$(wc -l <"$out")" -eq "$count" ] || die "seeding: could not read the ids back (see $BENCH_TMP/seed.out)"
}

# bench_fill_cache API_PORT COUNT: GETs ids 1..COUNT once over one keep-alive curl, which loads
# them all into Redis, and logs the statuses it got.
bench_fill_cache() {
	local cfg="$BENCH_TMP/fill.curl" i
	: >"$cfg"
	for i in $(seq 1 "$2"); do
		printf 'url = "http://127.0.0.1:%s/products/%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\nmax-time = 10\n' "$1" "$i" >>"$cfg"
		if [ "$i" -lt "$2" ]; then printf 'next\n' >>"$cfg"; fi
	done
	log "fill: $(curl -s -K "$cfg" | sort | uniq -c | tr -s ' \n' ' ')(count status)"
}

# bench_wrk_field FILE KEY: the value of KEY=... on the RESULT line that bench/wrk/*.lua print.
bench_wrk_field() { sed -n "s/^RESULT .*\b$2=\([^ ]*\).*/\1/p" "$1" | tail -n 1; }

# bench_run_wrk NAME URL SCRIPT SECONDS ARGS...: one wrk run (-t$THREADS -c$CONNS, latency, 5 s
# timeout) with bench/wrk/SCRIPT and its ARGS; its output in $BENCH_TMP/wrk-NAME.txt. Logs the
# RESULT line; dies without one.
bench_run_wrk() {
	local name="$1" url="$2" script="$3" secs="$4" out="$BENCH_TMP/wrk-$1.txt"
	shift 4
	wrk -t"$THREADS" -c"$CONNS" -d"${secs}s" --timeout 5s --latency -s "$BENCH_DIR/wrk/$script" "$url" -- "$@" \
		>"$out" 2>&1 || true
	grep -q '^RESULT ' "$out" || { cat "$out" >&2; die "wrk ($name) printed no RESULT line"; }
	log "$name: $(grep '^RESULT ' "$out" | cut -d' ' -f3-8)"
}

# Rounds of one phase: the bench_run_wrk outputs named PHASE-1, PHASE-2, ...
bench_rounds() { ls "$BENCH_TMP"/wrk-"$1"-[0-9]*.txt 2>/dev/null; }

# bench_rounds_sum PHASE KEY: KEY of the RESULT lines summed over the phase's rounds.
bench_rounds_sum() {
	local s=0 f
	for f in $(bench_rounds "$1"); do s=$(awk -v s="$s" -v x="$(bench_wrk_field "$f" "$2")" 'BEGIN { print s + x }'); done
	echo "$s"
}

# bench_rounds_rps PHASE: requests per second over all the phase's rounds together.
bench_rounds_rps() {
	awk -v r="$(bench_rounds_sum "$1" requests)" -v s="$(bench_rounds_sum "$1" duration_s)" \
		'BEGIN { printf "%.0f", (s > 0) ? r / s : 0 }'
}

# Milliseconds since the epoch.
now_ms() { date +%s%3N; }

# The load averages (1, 5, 15 min): printed with the results, since this machine is shared.
bench_loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
BENCH_LOAD_START="$(bench_loadavg)"
# One line for the summaries: load averages before this script started its own processes, and now.
bench_load_note() {
	echo "machine load avg (1/5/15 min): at start $BENCH_LOAD_START (before this run), at end $(bench_loadavg) (includes this run)"
}

# CPU accounting, to tell how much of the machine other processes took during a measurement.
# bench_cpu_busy: the CPU time all CPUs have spent busy (user + nice + system + irq + softirq),
# in clock ticks.
bench_cpu_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }

# bench_cpu_ticks PID...: the CPU time (utime + stime, in clock ticks) of these processes, all
# their threads; a process that is gone counts 0.
bench_cpu_ticks() {
	local pid total=0
	for pid in "$@"; do
		total=$((total + $(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ t = $12 + $13 } END { print t + 0 }')))
	done
	echo "$total"
}

# bench_cpu_mark prints "busy steal own" in clock ticks: busy = all CPUs' user+nice+system+irq+
# softirq, steal = time the hypervisor gave to others, own = CPU of the processes this script
# tracks (services, redis-servers) plus every child this shell has reaped (wrk, curl). Call it from the main shell,
# after waiting for the wrk being measured.
bench_cpu_mark() {
	local busy steal own=0 pid
	read -r busy steal < <(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $9 }' /proc/stat)
	for pid in "${BENCH_PIDS[@]:-}"; do
		if [ -n "$pid" ] && [ -r "/proc/$pid/stat" ]; then
			own=$((own + $(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ print $12 + $13 + $14 + $15 }' || echo 0)))
		fi
	done
	own=$((own + $(sed 's/^.*) //' "/proc/$$/stat" | awk '{ print $14 + $15 }')))
	echo "$busy $steal $own"
}

# bench_cpu_others "MARK_BEFORE" "MARK_AFTER" SECONDS: "other=X steal=Y", in cores (CPU-seconds
# per second) used by processes this script did not start, and stolen by the hypervisor.
bench_cpu_others() {
	local hz
	hz="$(getconf CLK_TCK 2>/dev/null || echo 100)"
	awk -v a="$1" -v b="$2" -v s="$3" -v hz="$hz" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		other = ((y[1] - x[1]) - (y[3] - x[3])) / hz / s; if (other < 0) other = 0
		printf "other=%.2f steal=%.2f", other, (y[2] - x[2]) / hz / s }'
}

# bench_wait_quiet: waits (at most BENCH_QUIET_WAIT s, default 60; 0 = not at all) until the
# machine has been nearly idle (< 25% of one core busy) for 3 s in a row, so that a measurement
# does not start in the middle of someone else's build. Proceeds anyway when the time is up.
bench_wait_quiet() {
	local max="${BENCH_QUIET_WAIT:-60}" start="$SECONDS" quiet=0 a b hz
	[ "$max" -gt 0 ] || return 0
	hz="$(getconf CLK_TCK 2>/dev/null || echo 100)"
	while [ $((SECONDS - start)) -lt "$max" ]; do
		a="$(bench_cpu_busy)"
		sleep 1
		b="$(bench_cpu_busy)"
		if [ $((b - a)) -lt $((hz / 4)) ]; then quiet=$((quiet + 1)); else quiet=0; fi
		if [ "$quiet" -ge 3 ]; then
			[ $((SECONDS - start)) -le 3 ] || log "machine quiet after $((SECONDS - start)) s"
			return 0
		fi
	done
	log "machine still busy after ${max} s (load $(bench_loadavg)); measuring anyway"
}

# bench_merged_percentile P FILE...: the P-th percentile (ms) of the latencies of several wrk runs
# together, from the QUANTILES lines that bench/wrk/get-random.lua prints (each run weighted by
# its number of requests; resolution 0.01%).
bench_merged_percentile() {
	local p="$1"
	shift
	grep -h '^QUANTILES ' "$@" | awk '{
		n = substr($2, 10) + 0; w = n / 9999
		for (i = 4; i <= NF; i++) print $i, w
	}' | sort -g -k1,1 | awk -v p="$p" '{ v[NR] = $1; c[NR] = $2; total += $2 }
		END { want = total * p / 100; run = 0
			for (i = 1; i <= NR; i++) { run += c[i]; if (run >= want) { printf "%.2f\n", v[i]; exit } }
			printf "%.2f\n", v[NR] }'
}
