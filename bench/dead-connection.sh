#!/usr/bin/env bash
# How long does the service keep a Redis connection whose peer vanished without a FIN or RST
# (a host powered off, a NAT entry dropped)? Packets to and from the Redis port are silently
# dropped with iptables on the loopback interface (root only; the rules name this run's
# private Redis port and are removed on exit), and `ss` shows each service's ESTABLISHED
# connections to that port until the kernel (keepalive, TCP_USER_TIMEOUT) or the service
# closes them. A loopback proxy cannot simulate this: closing or silencing its side is seen
# by the kernel (FIN/RST, or data acknowledged by the proxy's socket), so no retransmission
# timer or keepalive probe ever goes unanswered.
#
# Two instances side by side against one private Redis:
#  before   BEFORE_JAR, or the jar of BEFORE_REF (default: main) built from `git archive` in
#           the temp dir (and copied to $TMPDIR/dead-connection-before.jar for the next run):
#           keepalive 15 s idle + 3 x 5 s probes
#  after    this checkout's jar: keepalive 5 s idle + 3 x 1 s probes
# Both on Netty NIO: TCP_USER_TIMEOUT needs a native transport, not available at the Netty
# version Spring Boot manages (see README, "Dead connections").
# Phases (each starts with connections in use, then the DROP rules go in):
#  idle  no requests while the packets are dropped: only keepalive (and TCP_USER_TIMEOUT once a
#        probe is unanswered) can find out.
#  busy  a GET to each instance every 200 ms while the packets are dropped: the circuit breaker
#        opens after its timeouts and drops the connection.
# Prints, per phase and instance, seconds from the DROP until no ESTABLISHED connection of the
# instance to Redis is left (LIMIT_S at most, default 120).
set -euo pipefail
REPO_DIR="$(cd "$(dirname "$0")/.." && pwd)"
. "$REPO_DIR/bench/lib.sh"

LIMIT_S="${LIMIT_S:-120}"
[ "$(id -u)" = 0 ] || die "needs root (iptables)"
command -v iptables >/dev/null || die "needs iptables"
bench_init
RULES=()
drop_off() {
	local rule
	for rule in "${RULES[@]:-}"; do
		[ -n "$rule" ] || continue
		# shellcheck disable=SC2086
		iptables -D INPUT $rule 2>/dev/null || true
	done
	RULES=()
}
trap 'drop_off; bench_cleanup' EXIT
drop_on() {
	RULES=("-i lo -p tcp --dport $REDIS_PORT -j DROP" "-i lo -p tcp --sport $REDIS_PORT -j DROP")
	local rule
	for rule in "${RULES[@]}"; do
		# shellcheck disable=SC2086
		iptables -I INPUT $rule
	done
}

bench_single_service
BEFORE_REF="${BEFORE_REF:-main}"
if [ -z "${BEFORE_JAR:-}" ]; then
	mkdir -p "$T/before-src"
	git archive "$BEFORE_REF" | tar -x -C "$T/before-src"
	log "building the jar of $BEFORE_REF ($(git rev-parse --short "$BEFORE_REF"))"
	(cd "$T/before-src" && ./mvnw -q -B -DskipTests -Dspring-javaformat.skip=true package) >&2
	BEFORE_JAR="$(ls "$T"/before-src/target/product-catalog-*.jar | grep -v plain | head -1)"
	# Kept for another run (BEFORE_JAR=...): building it takes minutes on a loaded machine.
	cp "$BEFORE_JAR" "${TMPDIR:-/tmp}/dead-connection-before.jar"
fi
declare -A JARS=([before]="$BEFORE_JAR" [after]="$JAR")
bench_start_redis "$REDIS_PORT"
declare -A PID PORT
NAMES="before after"
for name in $NAMES; do
	PORT[$name]="$(bench_free_port)"
	bench_start_app "${JARS[$name]}" "${PORT[$name]}" "$REDIS_PORT" "$T/$name.db" "$T/$name.log"
	PID[$name]="$APP_PID"
	grep -h "Redis connections:" "$T/$name.log" | sed "s/^/[$name] /" >&2 || true
done

# Established connections of one process to the Redis port.
established() {
	ss -tnpH state established "( dport = :$REDIS_PORT )" 2>/dev/null | grep -c "pid=$1," || true
}

use_cache() {
	local name id
	for name in $NAMES; do
		# Generous timeouts: a just-started JVM on a loaded machine is slow to answer.
		id=$(curl -fsS -m 60 -H 'Content-Type: application/json' \
			-d '{"name":"dead connection","price":1.00,"stock_quantity":1}' \
			"http://127.0.0.1:${PORT[$name]}/products" | sed 's/.*"id":\([0-9]*\).*/\1/')
		curl -fsS -m 60 -o /dev/null "http://127.0.0.1:${PORT[$name]}/products/$id"
		curl -fsS -m 60 -o /dev/null "http://127.0.0.1:${PORT[$name]}/products/$id"
		LAST_ID[$name]=$id
	done
}
declare -A LAST_ID

measure() {
	local phase="$1" start name
	use_cache
	for name in $NAMES; do
		[ "$(established "${PID[$name]}")" -gt 0 ] || die "$name has no connection to Redis before the $phase phase"
	done
	drop_on
	start=$SECONDS
	local busy_pid=""
	if [ "$phase" = busy ]; then
		(while :; do
			for name in $NAMES; do
				curl -s -m 2 -o /dev/null "http://127.0.0.1:${PORT[$name]}/products/${LAST_ID[$name]}" &
			done
			sleep 0.2
		done) &
		busy_pid=$!
		bench_track "$busy_pid"
	fi
	declare -A gone=()
	while [ $((SECONDS - start)) -lt "$LIMIT_S" ] && [ "${#gone[@]}" -lt 2 ]; do
		for name in $NAMES; do
			if [ -z "${gone[$name]:-}" ] && [ "$(established "${PID[$name]}")" = 0 ]; then
				gone[$name]=$((SECONDS - start))
			fi
		done
		sleep 0.5
	done
	[ -n "$busy_pid" ] && bench_kill9 "$busy_pid"
	drop_off
	for name in $NAMES; do
		echo "RESULT phase=$phase jar=$name dead_connection_lived_s=${gone[$name]:->$LIMIT_S}"
	done
	# Let both reconnect before the next phase.
	sleep 3
}

measure idle
measure busy
