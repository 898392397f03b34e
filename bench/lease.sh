#!/usr/bin/env bash
# The fill lease across instances (issue #23, part 1). Three instances of the packaged jar on one
# database and one Redis, as behind a load balancer, and READERS (200) concurrent GETs of one
# cold product (just created: its key holds the creation's marker) spread over them in turn, all
# sent at once (bench/py/stampede.py), ROUNDS (10) times:
#  1. Database reads per fill, with the lease (CACHE_FILL_LEASE, default 300ms) and without
#     (CACHE_FILL_LEASE=0), side by side: both trios run at the same time, each on its own SQLite
#     file and key prefix in one private Redis, rounds alternating between them, after WARM_S (30)
#     s of unmeasured rounds. Reads are catalog_cache_database_reads_total summed over a trio.
#     Also the time until the last reader had its answer, and any status but 200.
#  2. The holder killed (PG=1, PostgreSQL on 127.0.0.1:5432, database test, a schema made for
#     the run): three instances with the lease on; a psql session locks the products table, so
#     the read of whoever takes the lease stalls; the readers are sent; the instance whose
#     granted count rose (the holder) gets kill -9; the lock is released. Reported per round:
#     when every reader of the two surviving instances had its answer (goal: within the lease
#     plus one fill), their statuses (goal: all 200), and their database reads (goal: 1, the
#     reader that took over the lease). KILL_ROUNDS (3); the killed instance is restarted
#     between rounds. The lease here is KILL_LEASE (2s): finding the holder (polling the three
#     instances' metrics) took ~0.5 s on a loaded 2-core machine, longer than the default lease,
#     so with it the holder would be killed after its lease had already run out.
# PHASE1=0 skips part 1.
# Six instances start at once in part 1: on a loaded machine set BENCH_START_WAIT=240 (and
# BENCH_JAVA_OPTS="-XX:+UseSerialGC -Xmx384m" to keep their threads few).
# Results in bench/results/lease.txt (RESULT_FILE). The machine may be shared: the load average
# is printed with the results.
source "$(dirname "$0")/lib.sh"
bench_init
bench_need_service
bench_need python3

READERS="${READERS:-200}"
ROUNDS="${ROUNDS:-10}"
WARM_S="${WARM_S:-30}"
KILL_ROUNDS="${KILL_ROUNDS:-3}"
LEASE="${LEASE:-300ms}"
KILL_LEASE="${KILL_LEASE:-2s}"
RESULT_FILE="${RESULT_FILE:-$REPO_DIR/bench/results/lease.txt}"
JAR="$(bench_jar)"
REDIS_PORT="$(bench_free_port)"
bench_start_redis "$REDIS_PORT"
STAMPEDE="$BENCH_DIR/py/stampede.py"

declare -A API MGMT PIDS ENVS

# start_instance KEY DB_FILE ENV...: one instance, its ports in API[KEY] and MGMT[KEY] (kept for
# a restart), its pid in PIDS[KEY].
start_instance() {
	local key="$1" db="$2"
	shift 2
	[ -n "${API[$key]:-}" ] || API[$key]="$(bench_free_port)"
	[ -n "${MGMT[$key]:-}" ] || MGMT[$key]="$(bench_free_port)"
	ENVS[$key]="$db $*"
	MANAGEMENT_PORT="${MGMT[$key]}" bench_start_app "$JAR" "${API[$key]}" "$REDIS_PORT" "$db" "$BENCH_TMP/$key.log" \
		CACHE_LOG_LEVEL=WARN CACHE_AUDIT_SAMPLE=0 REDIS_COMMAND_TIMEOUT="${REDIS_COMMAND_TIMEOUT:-250ms}" "$@"
	PIDS[$key]="$APP_PID"
	log "$key: api ${API[$key]}, management ${MGMT[$key]}, pid $APP_PID"
}

# metric KEY PREFIX: the sum of the samples whose name (with labels) starts with PREFIX.
metric() {
	curl -s -m 5 "http://127.0.0.1:${MGMT[$1]}/actuator/prometheus" |
		awk -v p="$2" 'index($0, p) == 1 { s += $NF } END { printf "%.0f\n", s }'
}

# database_reads KEY...: database reads after a miss (the ones a lease can spare), summed over
# the instances; bypass_reads: those after Redis did not answer (a command timeout on a loaded
# machine), apart.
database_reads() {
	local key s=0
	for key in "$@"; do s=$((s + $(metric "$key" 'catalog_cache_database_reads_total{after="miss"'))); done
	echo "$s"
}
bypass_reads() {
	local key s=0
	for key in "$@"; do s=$((s + $(metric "$key" 'catalog_cache_database_reads_total{after="bypass"'))); done
	echo "$s"
}

# create KEY: creates a product through that instance and prints its id.
create() {
	curl -s -m 10 -X POST "http://127.0.0.1:${API[$1]}/products" -H 'Content-Type: application/json' \
		-d '{"name":"lease bench","price":1.00,"stock_quantity":1}' | sed -n 's/^{"id":\([0-9][0-9]*\),.*/\1/p'
}

ports_of() {
	local key out=""
	for key in "$@"; do out="$out${out:+,}${API[$key]}"; done
	echo "$out"
}

# stampede_round TRIO: one round on instances TRIO-1..3; prints "reads last_ms not_200
# bypass_reads".
stampede_round() {
	local trio="$1" id before after bypass_before bypass_after out="$BENCH_TMP/round-$1.txt"
	id="$(create "$trio-1")"
	[ -n "$id" ] || die "$trio: could not create a product"
	before="$(database_reads "$trio-1" "$trio-2" "$trio-3")"
	bypass_before="$(bypass_reads "$trio-1" "$trio-2" "$trio-3")"
	python3 "$STAMPEDE" "$id" "$READERS" "$(ports_of "$trio-1" "$trio-2" "$trio-3")" >"$out"
	after="$(database_reads "$trio-1" "$trio-2" "$trio-3")"
	bypass_after="$(bypass_reads "$trio-1" "$trio-2" "$trio-3")"
	awk -v reads="$((after - before))" -v bypass="$((bypass_after - bypass_before))" '
		$1 != "START" { if ($3 > last) last = $3; if ($2 != 200) bad++ }
		END { printf "%d %.0f %d %d\n", reads, last, bad, bypass }' "$out"
}

# stats: "mean min max" of the numbers on stdin; median as well with "median".
stats() { sort -g | awk '{ v[NR] = $1; s += $1 } END { printf "mean %.2f, min %s, median %s, max %s", s / NR, v[1], v[int((NR + 1) / 2)], v[NR] }'; }

{
	echo "# bench/lease.sh, $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$REPO_DIR" rev-parse --short HEAD)$(git -C "$REPO_DIR" diff --quiet || echo '+changes')"
	echo "# jar $(basename "$JAR"); $READERS readers of one cold product per round, spread over 3 instances; $(nproc) cores; JVM options: ${BENCH_JAVA_OPTS:-none}"
} >"$BENCH_TMP/summary.txt"

# 1. Lease on and lease off, side by side.
for trio in on off; do
	[ "${PHASE1:-1}" = 1 ] || break
	lease="$LEASE"
	[ "$trio" = on ] || lease=0
	for n in 1 2 3; do
		start_instance "$trio-$n" "$BENCH_TMP/$trio.db" CATALOG_CACHE_KEYPREFIX="bench-lease-$trio-$$:product:" \
			CACHE_FILL_LEASE="$lease"
	done
done
log "warming up: alternating rounds for ${WARM_S} s"
warm_until=$((SECONDS + WARM_S))
[ "${PHASE1:-1}" = 1 ] || warm_until=0
while [ "$SECONDS" -lt "$warm_until" ]; do
	stampede_round on >/dev/null
	stampede_round off >/dev/null
done
bench_wait_quiet
log "measuring: $ROUNDS rounds each, alternating (load $(bench_loadavg))"
: >"$BENCH_TMP/on.txt"
: >"$BENCH_TMP/off.txt"
[ "${PHASE1:-1}" = 1 ] || ROUNDS=0
for round in $(seq 1 "$ROUNDS"); do
	for trio in on off; do
		result="$(stampede_round "$trio")"
		echo "$result" >>"$BENCH_TMP/$trio.txt"
		log "round $round, lease $trio: database reads after a miss, last answer ms, not 200, reads after a bypass: $result"
	done
done
[ "${PHASE1:-1}" = 1 ] && {
	echo
	echo "## 1. Database reads after a miss per fill, lease on (CACHE_FILL_LEASE=$LEASE) vs off (0), $ROUNDS rounds each, alternating"
	for trio in on off; do
		echo "lease $trio: database reads per round: $(cut -d' ' -f1 "$BENCH_TMP/$trio.txt" | tr '\n' ' ')($(cut -d' ' -f1 "$BENCH_TMP/$trio.txt" | stats))"
		echo "lease $trio: last reader answered after (ms): $(cut -d' ' -f2 "$BENCH_TMP/$trio.txt" | stats); answers not 200: $(awk '{ s += $3 } END { print s + 0 }' "$BENCH_TMP/$trio.txt")"
		echo "lease $trio: database reads after a bypass (Redis did not answer in time: no lease then), per round: $(cut -d' ' -f4 "$BENCH_TMP/$trio.txt" | tr '\n' ' ')"
	done
	echo "lease on/off, database reads: $(awk '{ s += $1 } END { print s }' "$BENCH_TMP/on.txt") / $(awk '{ s += $1 } END { print s }' "$BENCH_TMP/off.txt") over $ROUNDS fills each"
} >>"$BENCH_TMP/summary.txt"
for key in "${!PIDS[@]}"; do bench_kill9 "${PIDS[$key]}"; done
PIDS=()

# 2. The holder killed mid-fill.
if [ "${PG:-1}" = 1 ]; then
	bench_need psql postgresql-client
	schema="bench_lease_$$"
	psql -h 127.0.0.1 -U postgres -d test -qc "CREATE SCHEMA $schema" >/dev/null
	trap 'bench_cleanup; psql -h 127.0.0.1 -U postgres -d test -qc "DROP SCHEMA IF EXISTS '"$schema"' CASCADE" >/dev/null 2>&1 || true' EXIT
	pg_env=(DATABASE_URL="jdbc:postgresql://127.0.0.1:5432/test?currentSchema=$schema" SPRING_DATASOURCE_USERNAME=postgres
		CATALOG_CACHE_KEYPREFIX="bench-lease-kill-$$:product:" CACHE_FILL_LEASE="$KILL_LEASE")
	for n in 1 2 3; do start_instance "pg-$n" "$BENCH_TMP/unused.db" "${pg_env[@]}"; done
	# Unmeasured rounds without a kill, to warm the three up on PostgreSQL.
	warm_until=$((SECONDS + WARM_S))
	while [ "$SECONDS" -lt "$warm_until" ]; do stampede_round pg >/dev/null; done
	{
		echo
		echo "## 2. The holder killed with kill -9 while its database read stalls (PostgreSQL, CACHE_FILL_LEASE=$KILL_LEASE)"
		echo "# per round: when the holder was killed and the table lock released, then the survivors' readers: answered / sent, statuses, when the last one had its answer, database reads on the survivors"
	} >>"$BENCH_TMP/summary.txt"
	for round in $(seq 1 "$KILL_ROUNDS"); do
		id="$(create pg-1)"
		declare -A granted=() read_before=()
		for key in pg-1 pg-2 pg-3; do
			granted[$key]="$(metric "$key" 'catalog_cache_fill_leases_total{outcome="granted"')"
			read_before[$key]="$(database_reads "$key")"
		done
		coproc LOCKER { psql -h 127.0.0.1 -U postgres -d test -qAt 2>&1; }
		# Bash unsets LOCKER_PID once the coprocess has exited.
		locker_pid="$LOCKER_PID"
		bench_track "$locker_pid"
		locker_in="${LOCKER[1]}"
		locker_out="${LOCKER[0]}"
		echo "BEGIN; LOCK TABLE $schema.products IN ACCESS EXCLUSIVE MODE; SELECT 'locked';" >&"$locker_in"
		read -r -t 10 line <&"$locker_out" || die "psql did not lock the table"
		out="$BENCH_TMP/kill-$round.txt"
		python3 "$STAMPEDE" "$id" "$READERS" "$(ports_of pg-1 pg-2 pg-3)" >"$out" &
		stampede_pid=$!
		started_ms="$(now_ms)"
		holder=""
		while [ -z "$holder" ] && [ $(($(now_ms) - started_ms)) -lt 3000 ]; do
			for key in pg-1 pg-2 pg-3; do
				if [ "$(metric "$key" 'catalog_cache_fill_leases_total{outcome="granted"')" -gt "${granted[$key]}" ]; then
					holder="$key"
				fi
			done
		done
		[ -n "$holder" ] || die "round $round: no instance took the lease within 3 s"
		bench_kill9 "${PIDS[$holder]}"
		killed_ms="$(now_ms)"
		echo "COMMIT;" >&"$locker_in"
		exec {locker_in}>&-
		wait "$locker_pid" 2>/dev/null || true
		bench_untrack "$locker_pid"
		released_ms="$(now_ms)"
		wait "$stampede_pid"
		survivors=()
		for key in pg-1 pg-2 pg-3; do [ "$key" = "$holder" ] || survivors+=("$key"); done
		reads=0
		for key in "${survivors[@]}"; do reads=$((reads + $(database_reads "$key") - read_before[$key])); done
		start_ms="$(sed -n 's/^START //p' "$out")"
		line="$(awk -v dead="${API[$holder]}" -v s="$start_ms" -v k="$killed_ms" -v r="$released_ms" -v reads="$reads" '
			$1 == "START" || $1 == dead { next }
			{ n++; if ($2 == 200) ok++; else bad[$2]++; if ($3 > last) last = $3 }
			END { printf "holder killed at %d ms, lock released at %d ms; survivors: %d/%d answered 200", k - s, r - s, ok, n
				for (c in bad) printf ", %d x status %s", bad[c], c
				printf ", last answer at %.0f ms; database reads on the survivors: %s\n", last, reads }' "$out")"
		log "kill round $round: $line"
		echo "round $round: $line" >>"$BENCH_TMP/summary.txt"
		bench_wait_quiet
		if [ "$round" -lt "$KILL_ROUNDS" ]; then
			read -r db rest <<<"${ENVS[$holder]}"
			set -f
			# shellcheck disable=SC2086
			start_instance "$holder" "$db" $rest
			set +f
		fi
	done
fi
echo "$(bench_load_note); the machine was shared with other engineers' builds and tests" >>"$BENCH_TMP/summary.txt"
cat "$BENCH_TMP/summary.txt"
cp "$BENCH_TMP/summary.txt" "$RESULT_FILE"
log "results in $RESULT_FILE"
