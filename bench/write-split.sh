#!/usr/bin/env bash
# Where a PUT spends its time under the 95 % GET / 5 % PUT mix (issue #26, goal 2), and how
# the mix compares with pure Redis hits, side by side in one run.
#
# One service per variant, each with its own copy of one SQLite file of N products and its own
# redis-server (so that no variant's writes reach another's cache or change feed), logs at WARN.
# A variant is "NAME=ENV[,ENV...]" (environment of that service; empty for none), e.g.
#   VARIANTS="shared=BENCH_PREPARE=shared skip=BENCH_PREPARE=skip dedicated=BENCH_PREPARE=dedicated"
# (BENCH_PREPARE is read by the stage timers only; a build without them ignores it.) JAR=path
# among a variant's settings runs that jar, e.g. VARIANTS="base=JAR=/tmp/base.jar fix=" compares
# a copy of the jar before a change with the checkout's build; JAVA=path runs it on another java,
# e.g. VARIANTS="jdk17= jdk25=JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java" H_ALL=1 (each mix
# then compared with the hits of its own service).
# The stage timers are not in the service: for them, `git apply bench/results/write-split-
# instrumentation.diff`, build, run, then `git checkout src`. Without them the script still
# gives the PUT's time in the server and the write pool's wait and hold (Hikari's meters).
# Phases (wrk -t$THREADS -c$CONNS, random ids 1..N), after a WARM_S warm-up of each service:
#  h-<first variant>  GET /products/{id}, all Redis hits (the issue's reference)
#  m-<variant>        95/5 mix (bench/wrk/mix.lua)
# measured ROUNDS times, alternated. Around each mix phase the script reads the management
# port's /actuator/prometheus and takes the difference:
#  - http_server_requests_seconds{method="PUT"}: the PUT's time in the server (mean);
#  - hikaricp_connections_acquire_seconds / _usage_seconds {pool="sqlite"}: waiting for SQLite's
#    single write connection, and holding it (also the change feed's and auditor's use of it);
#  - bench_write_stage_seconds{stage=...}: when the build has the temporary stage timers of
#    ProductService.update (turn, begin, find, save, prepare, commit, unturn, forget,
#    invalidate, pages, total, tx_wall, tx_cpu).
# Prints, per variant: req/s, p50/p99, non-2xx, the PUT's mean time by stage and each stage's
# share of the PUT's mean server time; and the ratios m/h (req/s) and p99 m / p99 h.
#
# DB=postgresql runs each variant on PostgreSQL (127.0.0.1:5432, trust auth, database test) in a
# schema of its own, made and seeded (N products, through the variant's API) for the run and
# dropped after it; the pool meters are then those of PostgreSQL's pool (all connections).
#
# Usage: bench/write-split.sh    (about 5 minutes with the defaults and three variants)
# Env:   N=1000 THREADS=2 CONNS=64 WARM_S=30 PHASE_S=10 ROUNDS=3 OUT=bench/results/write-split.txt H_ALL=0
#        VARIANTS="base=" DB=sqlite BENCH_QUIET_WAIT=60 BENCH_KEEP=0 BENCH_JAVA_OPTS=
source "$(dirname "$0")/lib.sh"

N="${N:-1000}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-64}"
WARM_S="${WARM_S:-30}"
PHASE_S="${PHASE_S:-10}"
ROUNDS="${ROUNDS:-3}"
VARIANTS="${VARIANTS:-base=}"
OUT="${OUT:-$BENCH_DIR/results/write-split.txt}"
H_ALL="${H_ALL:-0}"   # 1: Redis hits measured on every variant (h<variant>), each mix compared with its own
DB="${DB:-sqlite}"

bench_init
bench_need wrk wrk
bench_need_service
bench_need python3 python3
bench_need java openjdk-17-jdk-headless
bench_need_db "$DB"

JAR="$(bench_jar)"
T="$BENCH_TMP"
log "jar: $JAR; variants: $VARIANTS; temp dir $T"

# ------------------------------------------------------------------------------ set-up
# The seed: one service on a first file, then a copy of that file per variant (on PostgreSQL,
# each variant's service seeds its own schema).
SEED_DB="$T/seed/catalog.db"
SEED_REDIS="$(bench_free_port)"
SEED_PORT="$(bench_free_port)"
if [ "$DB" = sqlite ]; then
	bench_start_redis "$SEED_REDIS"
	SEED_REDIS_PID="$REDIS_PID"
	bench_start_app "$JAR" "$SEED_PORT" "$SEED_REDIS" "$SEED_DB" "$T/app-seed.log" CHANGE_FEED_ENABLED=false
	SEED_APP_PID="$APP_PID"
	log "seeding $N products"
	bench_seed "$SEED_PORT" "$N" "$T/ids.txt"
	kill "$SEED_APP_PID" 2>/dev/null || true
	wait "$SEED_APP_PID" 2>/dev/null || true
	bench_untrack "$SEED_APP_PID"
	bench_kill9 "$SEED_REDIS_PID"
fi

NAMES=()
declare -A PORT MGMT APP CPU_MS
for v in $VARIANTS; do
	name="${v%%=*}"
	envs="${v#*=}"
	NAMES+=("$name")
	# JAR=path among a variant's settings: that variant runs this jar (a build of another
	# commit), not the checkout's.
	vjar="$JAR"
	if [[ ",$envs," =~ ,JAR=([^,]*), ]]; then
		vjar="${BASH_REMATCH[1]}"
		[ -f "$vjar" ] || die "variant $name: no jar $vjar"
		envs="$(printf '%s' ",$envs," | sed "s|,JAR=[^,]*,|,|; s|^,||; s|,$||")"
	fi
	vjava="${BENCH_JAVA:-java}"
	if [[ ",$envs," =~ ,JAVA=([^,]*), ]]; then
		vjava="${BASH_REMATCH[1]}"
		[ -x "$vjava" ] || die "variant $name: no java $vjava"
		envs="$(printf '%s' ",$envs," | sed "s|,JAVA=[^,]*,|,|; s|^,||; s|,$||")"
	fi
	mkdir -p "$T/$name"
	if [ "$DB" = sqlite ]; then
		sqlite3 "$SEED_DB" ".backup '$T/$name/catalog.db'"
	else
		bench_pg_schema "write_split_${name//[^a-zA-Z0-9]/_}_$$"
		envs="$(IFS=,; echo "${PG_ENV[*]}")${envs:+,$envs}"
	fi
	rport="$(bench_free_port)"
	PORT[$name]="$(bench_free_port)"
	MGMT[$name]="$(bench_free_port)"
	bench_start_redis "$rport"
	# shellcheck disable=SC2086
	BENCH_JAVA="$vjava" MANAGEMENT_PORT="${MGMT[$name]}" bench_start_app "$vjar" "${PORT[$name]}" "$rport" "$T/$name/catalog.db" "$T/app-$name.log" \
		LOGGING_LEVEL_ROOT=WARN LOGGING_LEVEL_COM_EXAMPLE_CATALOG=WARN CACHE_LOG_LEVEL=WARN ${envs//,/ }
	APP[$name]="$APP_PID"
	log "$name: api ${PORT[$name]}, management ${MGMT[$name]}, redis $rport, java $vjava, env: ${envs:-none}"
	if [ "$DB" = postgresql ]; then
		log "$name: seeding $N products"
		bench_seed "${PORT[$name]}" "$N" "$T/ids-$name.txt"
	fi
	bench_fill_cache "${PORT[$name]}" "$N"
done
REF="${NAMES[0]}"

for name in "${NAMES[@]}"; do
	log "warm-up ${WARM_S} s of $name under the mix (not measured)"
	bench_run_wrk "warm-$name" "http://127.0.0.1:${PORT[$name]}" mix.lua "$WARM_S" 1 "$N" warm
done
bench_run_wrk "warm-h" "http://127.0.0.1:${PORT[$REF]}" get-random.lua $((WARM_S / 2)) 1 "$N" warm

scrape() { curl -s -m 5 "http://127.0.0.1:${MGMT[$1]}/actuator/prometheus" >"$2" || : >"$2"; }

# ------------------------------------------------------------------------------ measured
bench_wait_quiet
LOAD_MEASURED_START="$(bench_loadavg)"
declare -A OTHERS
CPU_MS[h]=0
for r in $(seq 1 "$ROUNDS"); do
	c0="$(bench_cpu_ticks "${APP[$REF]}")"
	bench_run_wrk "h-$r" "http://127.0.0.1:${PORT[$REF]}" get-random.lua "$PHASE_S" 1 "$N" h
	CPU_MS[h]=$((CPU_MS[h] + ($(bench_cpu_ticks "${APP[$REF]}") - c0) * 1000 / $(getconf CLK_TCK)))
	# Each round starts with the next variant, so that none is always the first or last.
	n=${#NAMES[@]}
	for i in $(seq 0 $((n - 1))); do
		name="${NAMES[$(((i + r - 1) % n))]}"
		scrape "$name" "$T/prom-$name-$r-before.txt"
		if [ "$H_ALL" = 1 ]; then
			c0="$(bench_cpu_ticks "${APP[$name]}")"
			bench_run_wrk "h$name-$r" "http://127.0.0.1:${PORT[$name]}" get-random.lua "$PHASE_S" 1 "$N" "h$name"
			CPU_MS[h$name]=$((${CPU_MS[h$name]:-0} + ($(bench_cpu_ticks "${APP[$name]}") - c0) * 1000 / $(getconf CLK_TCK)))
		fi
		m0="$(bench_cpu_mark)"
		c0="$(bench_cpu_ticks "${APP[$name]}")"
		bench_run_wrk "m$name-$r" "http://127.0.0.1:${PORT[$name]}" mix.lua "$PHASE_S" 1 "$N" "m$name"
		CPU_MS[$name]=$((${CPU_MS[$name]:-0} + ($(bench_cpu_ticks "${APP[$name]}") - c0) * 1000 / $(getconf CLK_TCK)))
		m1="$(bench_cpu_mark)"
		scrape "$name" "$T/prom-$name-$r-after.txt"
		OTHERS[$name]="${OTHERS[$name]:-} $(bench_cpu_others "$m0" "$m1" "$PHASE_S" | sed 's/ steal=.*//; s/other=//')"
	done
done

# ------------------------------------------------------------------------------ summary
pct() { bench_merged_percentile "$2" $(bench_rounds "$1"); }
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { printf "%.2f", (y > 0) ? x / y : 0 }'; }
non2xx() {
	local s=0 f k
	for f in $(bench_rounds "$1"); do
		for k in c3xx c4xx c5xx other err_timeout; do
			s=$((s + $(bench_wrk_field "$f" "$k" | cut -d. -f1)))
		done
	done
	echo "$s"
}

mkdir -p "$(dirname "$OUT")"
COMMIT="$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)"
DIRTY="$(git -C "$REPO_DIR" status --porcelain -- src | grep -c . || true)"
{
	echo "bench/write-split.sh  $(date -u +%Y-%m-%dT%H:%MZ)  commit $COMMIT$([ "$DIRTY" = 0 ] || echo " + $DIRTY changed files under src/")  DB=$DB  N=$N  wrk -t$THREADS -c$CONNS  ${PHASE_S}s x $ROUNDS rounds, alternated"
	echo "machine: $(nproc) cores; $(java -version 2>&1 | head -n 1); load avg when the measured rounds began: $LOAD_MEASURED_START"
	cpu_per_req() { awk -v c="$1" -v n="$(bench_rounds_sum "$2" requests)" 'BEGIN { printf "%.3f", (n > 0) ? c / n : 0 }'; }
	printf '%-28s %8s %8s %8s %7s %6s %7s %9s   %s\n' phase "req/s" "p50 ms" "p99 ms" non2xx "m/h" "p99 m/h" "JVM ms/req" "CPU of others per round (cores)"
	printf '%-28s %8s %8s %8s %7s %6s %7s %9s\n' "h Redis hits ($REF)" "$(bench_rounds_rps h)" "$(pct h 50)" "$(pct h 99)" "$(non2xx h)" "" "" \
		"$(cpu_per_req "${CPU_MS[h]}" h)"
	for name in "${NAMES[@]}"; do
		hp=h
		if [ "$H_ALL" = 1 ]; then
			hp="h$name"
			printf '%-28s %8s %8s %8s %7s %6s %7s %9s\n' "h Redis hits ($name)" "$(bench_rounds_rps "$hp")" "$(pct "$hp" 50)" "$(pct "$hp" 99)" \
				"$(non2xx "$hp")" "" "" "$(cpu_per_req "${CPU_MS[$hp]}" "$hp")"
		fi
		printf '%-28s %8s %8s %8s %7s %6s %7s %9s   %s\n' "m 95/5 mix ($name)" "$(bench_rounds_rps "m$name")" "$(pct "m$name" 50)" \
			"$(pct "m$name" 99)" "$(non2xx "m$name")" "$(ratio "$(bench_rounds_rps "m$name")" "$(bench_rounds_rps "$hp")")" \
			"$(ratio "$(pct "m$name" 99)" "$(pct "$hp" 99)")" "$(cpu_per_req "${CPU_MS[$name]}" "m$name")" "${OTHERS[$name]}"
	done
	echo
	python3 - "$T" "$ROUNDS" "$DB" "${NAMES[@]}" "$((ROUNDS * PHASE_S))" <<'PY'
import re, sys
from collections import defaultdict
tmp, rounds, db, names = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:-1]
# SQLite's write pool is named "sqlite"; on PostgreSQL there is one pool for all connections.
def write_pool(pool):
    return pool == 'sqlite' if db == 'sqlite' else not pool.startswith('sqlite')
pool_name = 'sqlite' if db == 'sqlite' else 'postgresql (all connections)' 
line = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+([-0-9.eE+NaInf]+)$')
def parse(path):
    out = defaultdict(float)
    try:
        text = open(path).read()
    except OSError:
        return out
    for l in text.splitlines():
        m = line.match(l)
        if not m:
            continue
        metric, labels, value = m.group(1), m.group(2) or '', float(m.group(3))
        lab = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        if metric.startswith('http_server_requests_seconds_') and lab.get('method') == 'PUT':
            out[('put', metric.rsplit('_', 1)[1])] += value
        elif metric.startswith('hikaricp_connections_') and write_pool(lab.get('pool', '')):
            for kind in ('acquire', 'usage', 'creation'):
                if metric.startswith('hikaricp_connections_%s_seconds_' % kind):
                    out[(kind, metric.rsplit('_', 1)[1])] += value
        elif metric.startswith('bench_write_stage_seconds_'):
            out[('stage:' + lab.get('stage', '?'), metric.rsplit('_', 1)[1])] += value
    return out
def delta(name):
    total = defaultdict(float)
    for r in range(1, rounds + 1):
        a, b = parse('%s/prom-%s-%d-before.txt' % (tmp, name, r)), parse('%s/prom-%s-%d-after.txt' % (tmp, name, r))
        for k in set(a) | set(b):
            if k[1] in ('sum', 'count'):
                total[k] += b[k] - a[k]
    return total
def mean_ms(d, key):
    n = d[(key, 'count')]
    return (1000 * d[(key, 'sum')] / n) if n else None
order = [('turn', 'waiting for the turn (ProductWriters)'), ('begin', 'transaction begin'),
         ('acquire', 'waiting for the write connection (pool sqlite)'), ('find', 'findLockedById (the SELECT)'), ('save', 'saveAndFlush (UPDATE, triggers)'),
         ('prepare', 'provisional marker (Redis, in the transaction)'), ('commit', 'commit + release of the connection'),
         ('unturn', 'leaving the turn'), ('forget', 'single-flight forget'),
         ('invalidate', 'final marker (Redis, after the commit)'), ('pages', 'page generation INCR (Redis, after)')]
for name in names:
    d = delta(name)
    put = mean_ms(d, 'put')
    print('variant %s: %d PUTs measured, mean server time %s ms' % (name, d[('put', 'count')], '%.3f' % put if put else 'n/a'))
    acq, use = mean_ms(d, 'acquire'), mean_ms(d, 'usage')
    print('  pool %s (all its users): %d acquires, mean wait %s ms; mean hold %s ms'
          % (pool_name, d[('acquire', 'count')], '%.3f' % acq if acq is not None else 'n/a', '%.3f' % use if use is not None else 'n/a'))
    if mean_ms(d, 'stage:total') is None:
        print('  (no stage timers in this build)')
        continue
    total = mean_ms(d, 'stage:total')
    print('  %-58s %9s %7s' % ('stage of ProductService.update', 'mean ms', 'share'))
    known = 0.0
    for key, desc in order:
        v = mean_ms(d, 'stage:' + key) or 0.0
        known += v
        print('  %-58s %9.3f %6.1f%%' % (key + ': ' + desc, v, 100 * v / put if put else 0))
    if put:
        print('  %-58s %9.3f %6.1f%%' % ('other: the rest of the request (web, JSON, filters)', put - known, 100 * (put - known) / put))
    txw, txc, acqw = mean_ms(d, 'stage:tx_wall'), mean_ms(d, 'stage:tx_cpu'), mean_ms(d, 'stage:acquire') or 0
    txq = mean_ms(d, 'stage:tx_runqueue') or 0
    acqq, acqc = mean_ms(d, 'stage:acquire_runqueue') or 0, mean_ms(d, 'stage:acquire_cpu') or 0
    hold, holdc, holdq = txw - acqw, txc - acqc, txq - acqq
    print('  update() total %.3f ms; from the transaction\'s start to after its commit %.3f ms:' % (total, txw))
    print('    waiting for the write connection %.3f ms, of which %.3f ms in the run queue (woken, waiting for a core)' % (acqw, acqq))
    print('    holding it (find..commit) %.3f ms = on CPU %.3f (%.0f%%) + in the run queue %.3f (%.0f%%) + blocked (Redis, I/O, locks) %.3f (%.0f%%)'
          % (hold, holdc, 100 * holdc / hold, holdq, 100 * holdq / hold, hold - holdc - holdq, 100 * (hold - holdc - holdq) / hold))
    if use is not None:
        secs = float(sys.argv[-1])
        print('  pool %s: held %.3f ms per use (Hikari), busy %.0f%% of the measured time (%d uses in %.0f s; PUTs %.0f/s)'
              % (pool_name, use, 100 * d[('usage', 'sum')] / secs if secs else 0, d[('usage', 'count')], secs, d[('put', 'count')] / secs if secs else 0))
PY
	bench_load_note
} | tee "$OUT"
