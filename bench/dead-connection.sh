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
# Two instances of the same jar, side by side against one private Redis:
#  nio      -Dio.lettuce.core.iouring=false: Netty NIO; keepalive 15 s idle + 3 x 5 s probes
#           (Lettuce's extended keepalive), no TCP_USER_TIMEOUT (Lettuce sets it on io_uring
#           and epoll only). The state before io_uring was added.
#  io_uring the default: the same keepalive, plus TCP_USER_TIMEOUT 10 s.
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
bench_start_redis "$REDIS_PORT"
declare -A PID PORT
for name in nio io_uring; do
	PORT[$name]="$(bench_free_port)"
	opts=""
	[ "$name" = nio ] && opts="-Dio.lettuce.core.iouring=false"
	BENCH_JAVA_OPTS="$opts" bench_start_app "$JAR" "${PORT[$name]}" "$REDIS_PORT" "$T/$name.db" "$T/$name.log"
	PID[$name]="$APP_PID"
	grep -h "Redis connections:" "$T/$name.log" | sed "s/^/[$name] /" >&2 || true
done

# Established connections of one process to the Redis port.
established() {
	ss -tnpH state established "( dport = :$REDIS_PORT )" 2>/dev/null | grep -c "pid=$1," || true
}

use_cache() {
	local name id
	for name in nio io_uring; do
		id=$(curl -fsS -m 5 -H 'Content-Type: application/json' \
			-d '{"name":"dead connection","price":1.00,"stock_quantity":1}' \
			"http://127.0.0.1:${PORT[$name]}/products" | sed 's/.*"id":\([0-9]*\).*/\1/')
		curl -fsS -m 5 -o /dev/null "http://127.0.0.1:${PORT[$name]}/products/$id"
		curl -fsS -m 5 -o /dev/null "http://127.0.0.1:${PORT[$name]}/products/$id"
		LAST_ID[$name]=$id
	done
}
declare -A LAST_ID

measure() {
	local phase="$1" start name
	use_cache
	for name in nio io_uring; do
		[ "$(established "${PID[$name]}")" -gt 0 ] || die "$name has no connection to Redis before the $phase phase"
	done
	drop_on
	start=$SECONDS
	local busy_pid=""
	if [ "$phase" = busy ]; then
		(while :; do
			for name in nio io_uring; do
				curl -s -m 2 -o /dev/null "http://127.0.0.1:${PORT[$name]}/products/${LAST_ID[$name]}" &
			done
			sleep 0.2
		done) &
		busy_pid=$!
		bench_track "$busy_pid"
	fi
	declare -A gone=()
	while [ $((SECONDS - start)) -lt "$LIMIT_S" ] && [ "${#gone[@]}" -lt 2 ]; do
		for name in nio io_uring; do
			if [ -z "${gone[$name]:-}" ] && [ "$(established "${PID[$name]}")" = 0 ]; then
				gone[$name]=$((SECONDS - start))
			fi
		done
		sleep 0.5
	done
	[ -n "$busy_pid" ] && bench_kill9 "$busy_pid"
	drop_off
	for name in nio io_uring; do
		echo "RESULT phase=$phase transport=$name dead_connection_lived_s=${gone[$name]:->$LIMIT_S}"
	done
	# Let both reconnect before the next phase.
	sleep 3
}

measure idle
measure busy
