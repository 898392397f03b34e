#!/usr/bin/env bash
# Redis down under load (issue 23, part 3): Redis is killed under a 95/5 read/write mix offered
# at about MULT (2) times what the database alone serves, and the run reports what the bulkhead
# and the gutter make of it: the share of 503s, how fast they come (p99, from probes), no other
# 5xx, the gutter hits, and the time until reads are Redis hits again after Redis returns.
#
# One run, one jar, one SQLite file of N products:
#  A  the database alone: REDIS_PORT points where nothing listens, the gutter off and the
#     bulkhead wide open (FALLBACK_MAX_CONCURRENT_READS=100000): every GET is a database read,
#     as before issue 23. Closed-loop wrk (-c$CONNS) for CAP_S after WARM_S: its 2xx/s is
#     "what the database alone serves" (C).
#  B  the service (bulkhead at the read pool), with a redis-server of its own, twice: gutter on
#     (the default) and gutter off (CACHE_GUTTER_ENABLED=false, so that the overflow reaches the
#     bulkhead). The load: bench/wrk/mix-paced.lua at MULT x C requests/s (each of PACED_CONNS
#     connections pauses between requests), HOT_SHARE of them to HOT_N hot ids, the rest
#     uniform over all N. Warm-up WARM_S with a rehearsal outage, then back to back:
#       before  Redis up                                    PHASE_S
#       down    redis-server killed with SIGKILL before it  DOWN_S
#       after   redis-server restarted (empty) before it    PHASE_S
#     During "down", PROBES sequential keep-alive curl clients GET random ids and record
#     status and time of each answer: the p99 time to a 503 comes from them (wrk's latency
#     mixes all answers). During "after", GET /products/1 (a hot id) every 100 ms: the time
#     to the first X-Cache HIT. The actuator's counters are read before and after "down".
#
# Exit status 1 if any answer was a 5xx other than 503, or a 503 lacked Retry-After.
# Usage: bench/redis-down.sh   (about 6 minutes on an idle machine)
#        VARIANTS=one-read OUT=bench/results/redis-down-one-read.txt bench/redis-down.sh
#        (the bulkhead saturated on purpose: FALLBACK_MAX_CONCURRENT_READS=1, no gutter)
# Env:   N=2000 HOT_N=100 HOT_SHARE=0.5 MULT=2 THREADS=2 CONNS=16 PACED_CONNS=32 WARM_S=30
#        CAP_S=10 PHASE_S=10 DOWN_S=15 PROBES=4 VARIANTS="gutter-on gutter-off"
#        OUT=bench/results/redis-down.txt BENCH_KEEP=0 BENCH_JAVA_OPTS= BENCH_START_WAIT=90
source "$(dirname "$0")/lib.sh"

N="${N:-2000}"
HOT_N="${HOT_N:-100}"
HOT_SHARE="${HOT_SHARE:-0.5}"
MULT="${MULT:-2}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-16}"
PACED_CONNS="${PACED_CONNS:-32}"
WARM_S="${WARM_S:-30}"
CAP_S="${CAP_S:-10}"
PHASE_S="${PHASE_S:-10}"
DOWN_S="${DOWN_S:-15}"
PROBES="${PROBES:-4}"
VARIANTS="${VARIANTS:-gutter-on gutter-off}"
OUT="${OUT:-$BENCH_DIR/results/redis-down.txt}"

bench_init
bench_need wrk wrk
bench_need_service
bench_need java openjdk-17-jdk-headless

JAR="$(bench_jar)"
T="$BENCH_TMP"
DB="$T/data/catalog.db"
PORT_A="$(bench_free_port)"
PORT_B="$(bench_free_port)"
DEAD_PORT="$(bench_free_port)"
REDIS_PORT="$(bench_free_port)"
MGMT_B="$(bench_free_port)"
bench_distinct_ports "$PORT_A" "$PORT_B" "$DEAD_PORT" "$REDIS_PORT" "$MGMT_B"
log "jar: $JAR; A $PORT_A (no Redis), B $PORT_B (redis $REDIS_PORT, actuator $MGMT_B); temp dir $T"

field() { bench_wrk_field "$1" "$2"; }

# paced NAME PORT SECONDS RATE: the paced mix at about RATE requests/s
paced() {
	local name="$1" port="$2" secs="$3" rate="$4" pause
	pause=$(awk -v c="$PACED_CONNS" -v r="$rate" 'BEGIN { p = c * 1000 / r; printf "%d", (p < 1) ? 1 : p }')
	wrk -t"$THREADS" -c"$PACED_CONNS" -d"${secs}s" --timeout 10s --latency -s "$BENCH_DIR/wrk/mix-paced.lua" \
		"http://127.0.0.1:$port" -- 1 "$N" "$pause" "$HOT_N" "$HOT_SHARE" "$name" >"$T/wrk-$name.txt" 2>&1 || true
	grep -q '^RESULT ' "$T/wrk-$name.txt" || { cat "$T/wrk-$name.txt" >&2; die "wrk ($name) printed no RESULT line"; }
	log "$name: $(grep '^RESULT ' "$T/wrk-$name.txt" | cut -d' ' -f3-)"
}

# metric NAME_WITH_LABELS: a value from B's /actuator/prometheus (0 if absent)
metric() {
	curl -s -m 5 "http://127.0.0.1:$MGMT_B/actuator/prometheus" | grep -F "$1" | grep -v '^#' | awk '{ s += $2 } END { printf "%.0f", s }'
}

x_cache() { curl -s -m 5 -D- -o /dev/null "http://127.0.0.1:$1/products/$2" | tr -d '\r' | sed -n 's/^[Xx]-[Cc]ache: *//p'; }

# probe I SECONDS: sequential GETs of random ids over one keep-alive connection; "status
# seconds retry-after" per answer in $T/probe-I.txt
probe_config() {
	awk -v port="$PORT_B" -v n="$N" -v seed="$1" 'BEGIN { srand(seed); for (k = 0; k < 20000; k++) {
		printf "url = \"http://127.0.0.1:%s/products/%d\"\noutput = \"/dev/null\"\n", port, int(rand() * n) + 1
		printf "write-out = \"%%{http_code} %%{time_total} %%header{retry-after}\\n\"\nmax-time = 10\nnext\n" } }' >"$T/probe-$1.curl"
}
probe() {
	timeout "$2" curl -s -K "$T/probe-$1.curl" >"$T/probe-$1-$3.txt" 2>/dev/null || true
}

# ---------------------------------------------------------------- A: the database alone
bench_start_app "$JAR" "$PORT_A" "$DEAD_PORT" "$DB" "$T/app-A.log" CACHE_GUTTER_ENABLED=false \
	FALLBACK_MAX_CONCURRENT_READS=100000
APP_A="$APP_PID"
log "seeding $N products"
bench_seed "$PORT_A" "$N" "$T/ids.txt"
log "A: warm-up ${WARM_S} s (not measured), then ${CAP_S} s measured, closed loop -c$CONNS"
bench_run_wrk A-warmup "http://127.0.0.1:$PORT_A" mix.lua "$WARM_S" 1 "$N" A-warmup
bench_run_wrk A "http://127.0.0.1:$PORT_A" mix.lua "$CAP_S" 1 "$N" A
CAPACITY=$(awk -v r="$(field "$T/wrk-A.txt" c2xx)" -v s="$(field "$T/wrk-A.txt" duration_s)" 'BEGIN { printf "%.0f", r / s }')
RATE=$(awk -v c="$CAPACITY" -v m="$MULT" 'BEGIN { printf "%.0f", c * m }')
log "A: the database alone serves $CAPACITY answers/s (p99 $(field "$T/wrk-A.txt" p99_ms) ms); offered load for B: $RATE/s"
bench_kill9 "$APP_A"

# ---------------------------------------------------------------- B: the service, Redis killed
# run_b VARIANT [ENV...]: one service with a fresh redis-server; phases before/down/after
# (files wrk-PHASE-VARIANT.txt, probe-I-VARIANT.txt, metrics-VARIANT.txt, hit-VARIANT.txt)
run_b() {
	local v="$1" i first_hit_ms="" t0 wrk_after probes=()
	shift
	bench_start_redis "$REDIS_PORT"
	MANAGEMENT_PORT="$MGMT_B" bench_start_app "$JAR" "$PORT_B" "$REDIS_PORT" "$DB" "$T/app-B-$v.log" "$@"
	local app="$APP_PID"
	bench_fill_cache "$PORT_B" "$N"
	log "B ($v): warm-up ${WARM_S} s (not measured) with a rehearsal outage"
	paced "B-warmup-up-$v" "$PORT_B" $(( WARM_S / 2 )) "$RATE"
	bench_kill9 "$REDIS_PID"
	paced "B-warmup-down-$v" "$PORT_B" $(( WARM_S / 2 )) "$RATE"
	bench_start_redis "$REDIS_PORT"
	for i in $(seq 1 100); do [ "$(x_cache "$PORT_B" 1)" = HIT ] && break; sleep 0.1; done
	bench_fill_cache "$PORT_B" "$N"
	for i in $(seq 1 "$PROBES"); do probe_config "$i"; done

	paced "before-$v" "$PORT_B" "$PHASE_S" "$RATE"
	local gutter0 refused0 bypass0
	gutter0="$(metric 'catalog_cache_lookups_total{outcome="gutter_hit"')"
	refused0="$(metric catalog_fallback_refused_total)"
	bypass0="$(metric 'catalog_cache_lookups_total{outcome="bypass"')"
	log "B ($v): kill -9 redis-server (pid $REDIS_PID)"
	bench_kill9 "$REDIS_PID"
	for i in $(seq 1 "$PROBES"); do
		probe "$i" "$DOWN_S" "$v" &
		probes+=("$!")
	done
	paced "down-$v" "$PORT_B" "$DOWN_S" "$RATE"
	wait "${probes[@]}"
	echo "gutter_hits=$(( $(metric 'catalog_cache_lookups_total{outcome="gutter_hit"') - gutter0 ))" \
		"bypass=$(( $(metric 'catalog_cache_lookups_total{outcome="bypass"') - bypass0 ))" \
		"refused=$(( $(metric catalog_fallback_refused_total) - refused0 ))" >"$T/metrics-$v.txt"

	bench_start_redis "$REDIS_PORT"
	t0="$(now_ms)"
	log "B ($v): redis-server restarted (empty); polling /products/1 every 100 ms"
	paced "after-$v" "$PORT_B" "$PHASE_S" "$RATE" &
	wrk_after=$!
	while [ $(( $(now_ms) - t0 )) -lt $(( PHASE_S * 1000 )) ]; do
		if [ "$(x_cache "$PORT_B" 1)" = HIT ]; then first_hit_ms="$(( $(now_ms) - t0 ))"; break; fi
		sleep 0.1
	done
	wait "$wrk_after"
	echo "${first_hit_ms:-not within ${PHASE_S}000}" >"$T/hit-$v.txt"
	bench_kill9 "$app"
	bench_kill9 "$REDIS_PID"
}

# variant NAME: the settings of B for that variant
variant_env() {
	case "$1" in
		gutter-on) ;;
		gutter-off) echo CACHE_GUTTER_ENABLED=false ;;
		# the bulkhead saturated on purpose: one database read at a time, no gutter
		one-read) echo CACHE_GUTTER_ENABLED=false FALLBACK_MAX_CONCURRENT_READS=1 ;;
		*) die "unknown variant $1 (gutter-on, gutter-off, one-read)" ;;
	esac
}
for v in $VARIANTS; do
	# shellcheck disable=SC2046
	run_b "$v" $(variant_env "$v")
done

# ---------------------------------------------------------------- summary
p99_of() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) { print "n/a"; exit } i = int(NR * 0.99); if (i < 1) i = 1; printf "%.1f", a[i] * 1000 }'; }
max_of() { sort -n | tail -n 1 | awk '{ printf "%.1f", $1 * 1000 }'; }
failed=0
{
	echo "bench/redis-down.sh, $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo '?')"
	echo "N=$N products; HOT_SHARE=$HOT_SHARE of the requests go to $HOT_N hot ids, the rest uniform over all; 95/5 GET/PUT"
	echo "$(bench_load_note); the machine is shared with other engineers' builds and tests (a busy host)"
	echo
	echo "database alone (A: no Redis, no gutter, no bulkhead; closed loop -c$CONNS): $CAPACITY answers/s, p99 $(field "$T/wrk-A.txt" p99_ms) ms"
	echo "offered to B: ~$RATE requests/s ($MULT x), paced over $PACED_CONNS connections (a slow answer lowers the rate)"
	for v in $VARIANTS; do
		echo
		echo "B, $v ($(variant_env "$v" | sed 's/^$/defaults: gutter on, bulkhead at the read pool/'); FALLBACK_MAX_WAIT 5 ms):"
		for phase in before down after; do
			f="$T/wrk-$phase-$v.txt"
			printf '  %-7s %6s req/s  p50 %7s ms  p99 %7s ms  max %8s ms  2xx %6s  503 %5s  other 5xx %s  HIT %6s  MISS %5s  BYPASS %6s  GUTTER %6s  timeouts %s\n' \
				"$phase" "$(field "$f" rps)" "$(field "$f" p50_ms)" "$(field "$f" p99_ms)" "$(field "$f" max_ms)" \
				"$(field "$f" c2xx)" "$(field "$f" c503)" "$(field "$f" c5xx_other)" "$(field "$f" hit)" "$(field "$f" miss)" \
				"$(field "$f" bypass)" "$(field "$f" gutter)" "$(field "$f" err_timeout)"
			failed=$(( failed + $(field "$f" c5xx_other) ))
		done
		d="$T/wrk-down-$v.txt"
		# The last line of each probe may be cut short by the timeout that ends it.
		for f in "$T"/probe-*-"$v".txt; do sed '$d' "$f"; done | awk 'NF >= 2 && $1 ~ /^[0-9][0-9][0-9]$/' >"$T/probes-$v.txt"
		local_503="$(awk '$1 == 503' "$T/probes-$v.txt" | wc -l)"
		no_retry="$(awk '$1 == 503 && $3 != "1"' "$T/probes-$v.txt" | wc -l)"
		others="$(awk '$1 != 503 && $1 != 200' "$T/probes-$v.txt" | wc -l)"
		failed=$(( failed + no_retry + others ))
		echo "  down: 503 share $(awk -v a="$(field "$d" c503)" -v t="$(field "$d" requests)" 'BEGIN { printf "%.1f", (t > 0) ? 100 * a / t : 0 }') % of wrk's answers; actuator: $(cat "$T/metrics-$v.txt")"
		echo "  down, $PROBES probe clients (GET of random ids, one keep-alive connection each):" \
			"$(awk '$1 == 200' "$T/probes-$v.txt" | wc -l) x 200 (p99 $(awk '$1 == 200 { print $2 }' "$T/probes-$v.txt" | p99_of) ms)," \
			"$local_503 x 503 (p99 $(awk '$1 == 503 { print $2 }' "$T/probes-$v.txt" | p99_of) ms, max $(awk '$1 == 503 { print $2 }' "$T/probes-$v.txt" | max_of) ms, $no_retry without Retry-After: 1), $others other"
		echo "  after: first X-Cache HIT of /products/1 $(cat "$T/hit-$v.txt") ms after redis-server was back (empty)"
	done
} | tee "$T/summary.txt"
mkdir -p "$(dirname "$OUT")"
cp "$T/summary.txt" "$OUT"
log "summary written to $OUT"
grep -q "other 5xx [1-9]" "$T/summary.txt" && exit 1
grep -Eq "[1-9][0-9]* without Retry-After|, [1-9][0-9]* other$" "$T/summary.txt" && exit 1
exit 0
