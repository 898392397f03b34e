#!/usr/bin/env bash
# Does each setting of the README that changes which beans exist still take effect in a jar
# built with Spring's AOT processing (spring-boot:process-aot) and started with
# -Dspring.aot.enabled=true? Spring's AOT fixes the @Conditional decisions at build time
# (issue #26 goal 5: "if one cannot, it is not worth 1 s"). The same AOT-built jar runs each
# setting twice, with Spring's AOT off and on, and the script checks what a user would see:
#   VIRTUAL_THREADS=true            requests run on virtual threads (Tomcat's "tomcat-handler-N")
#   OTEL_EXPORTER_OTLP_ENDPOINT     a sampled request's spans reach the collector's /v1/traces
#   LOG_FORMAT=json                 every log line is a JSON object
#   CACHE_NEAR_ENABLED=true/false   the near cache says it is on / does not
#   REDIS_SENTINEL_*                reads are cached through a sentinel (REDIS_PORT points nowhere)
#   REDIS_CLUSTER_NODES             reads are cached on a 3-node Cluster (REDIS_PORT points nowhere)
# Prints one line per setting and check: "takes effect" or "IGNORED", for AOT off and on.
#
# Usage: bench/aot-settings.sh
# Env:   JDK25=/usr/lib/jvm/temurin-25-jdk-amd64 (virtual threads need JDK 21+)
#        AOT_JAR= a jar already built with process-aot (else built from this working tree in
#        a temporary copy, so target/ is left alone) BENCH_KEEP=0
source "$(dirname "$0")/lib.sh"

JDK25="${JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}"
JAVA="$JDK25/bin/java"

bench_init
bench_need_service
bench_need python3 python3
[ -x "$JAVA" ] || die "no JDK 25 at $JDK25 (set JDK25)"
T="$BENCH_TMP"

if [ -z "${AOT_JAR:-}" ]; then
	log "building the jar with Spring's AOT processing in $T/src"
	mkdir -p "$T/src"
	cp -r "$REPO_DIR/pom.xml" "$REPO_DIR/mvnw" "$REPO_DIR/.mvn" "$REPO_DIR/src" "$T/src/"
	(cd "$T/src" && ./mvnw -q -B -DskipTests -Dspring-javaformat.validate.skip=true \
		compile spring-boot:process-aot package >"$T/build.log" 2>&1) \
		|| { tail -n 30 "$T/build.log" >&2; die "the AOT build failed"; }
	AOT_JAR="$(ls "$T"/src/target/product-catalog-*.jar | grep -v -- '-plain\.jar$' | head -n 1)"
fi
unzip -l "$AOT_JAR" >"$T/jar-entries"
grep -q '__ApplicationContextInitializer' "$T/jar-entries" || die "$AOT_JAR holds no AOT-generated code"

REDIS_PORT="$(bench_free_port)"
bench_start_redis "$REDIS_PORT"
NOWHERE="$(bench_free_port)"   # nothing listens there
COLLECTOR_PORT="$(bench_free_port)"
SENTINEL_PORT="$(bench_free_port)"
CLUSTER_PORTS=("$(bench_free_port)" "$(bench_free_port)" "$(bench_free_port)")
# The Cluster bus ports, named: Redis's default (port + 10000) can be past 65535 here.
BUS_PORTS=("$(bench_free_port)" "$(bench_free_port)" "$(bench_free_port)")
bench_distinct_ports "$REDIS_PORT" "$NOWHERE" "$COLLECTOR_PORT" "$SENTINEL_PORT" "${CLUSTER_PORTS[@]}" "${BUS_PORTS[@]}"

# A sentinel watching the private Redis (a lone master: nothing to fail over to).
printf 'port %s\nbind 127.0.0.1\ndir %s\nsentinel monitor catalog 127.0.0.1 %s 1\n' \
	"$SENTINEL_PORT" "$T" "$REDIS_PORT" >"$T/sentinel.conf"
redis-server "$T/sentinel.conf" --sentinel >"$T/sentinel.log" 2>&1 &
bench_track $!
# A Cluster of three masters.
for i in 0 1 2; do
	bench_start_redis "${CLUSTER_PORTS[$i]}" --dir "$T" --cluster-enabled yes --cluster-port "${BUS_PORTS[$i]}" \
		--cluster-config-file "$T/nodes-${CLUSTER_PORTS[$i]}.conf"
done
redis-cli --cluster create "${CLUSTER_PORTS[@]/#/127.0.0.1:}" --cluster-yes >"$T/cluster-create.log" 2>&1 \
	|| die "redis-cli --cluster create failed: $(tail -n 5 "$T/cluster-create.log")"
for _ in $(seq 1 100); do
	redis-cli -p "${CLUSTER_PORTS[0]}" cluster info >"$T/cluster-info" 2>&1 || true
	grep -q 'cluster_state:ok' "$T/cluster-info" && break
	sleep 0.1
done
grep -q 'cluster_state:ok' "$T/cluster-info" || die "the Cluster did not reach cluster_state:ok within 10 s"
for _ in $(seq 1 100); do
	redis-cli -p "$SENTINEL_PORT" ping >"$T/sentinel-ping" 2>&1 || true
	grep -q PONG "$T/sentinel-ping" && break
	sleep 0.05
done
grep -q PONG "$T/sentinel-ping" || die "the sentinel did not start, see $T/sentinel.log"

# The OTLP stand-in of bench/tracing.sh, writing down the path of each request it gets.
: >"$T/collected"
python3 "$BENCH_DIR/py/otlp_sink.py" "$COLLECTOR_PORT" "$T/collected" >"$T/sink.log" 2>&1 &
bench_track $!

mkdir -p "$T/x"
"$JAVA" -Djarmode=tools -jar "$AOT_JAR" extract --destination "$T/x" >"$T/extract.log" 2>&1 \
	|| die "extracting $AOT_JAR failed"
APP="$T/x/$(basename "$AOT_JAR")"

# run AOT NAME [ENV...]: starts the jar with Spring's AOT on or off and these variables,
# creates a product and reads it twice (the second time as a sampled trace), stops it.
RUN=0
run() {
	local aot="$1" name="$2" logfile
	shift 2
	RUN=$((RUN + 1))
	logfile="$T/$name-aot-$aot.log"
	# Ports drawn afresh for each start: between starts, an outgoing connection (the
	# sentinel's, the Cluster's bus) can take the port the last start listened on.
	API_PORT="$(bench_free_port)"
	MANAGEMENT_PORT="$(bench_free_port)"
	bench_distinct_ports "$API_PORT" "$MANAGEMENT_PORT" "$REDIS_PORT" "$NOWHERE" "$COLLECTOR_PORT" \
		"$SENTINEL_PORT" "${CLUSTER_PORTS[@]}" "${BUS_PORTS[@]}"
	BASE="http://127.0.0.1:$API_PORT"
	BENCH_JAVA="$JAVA" BENCH_JAVA_OPTS="-Dspring.aot.enabled=$aot" BENCH_START_WAIT=120 \
		bench_start_app "$APP" "$API_PORT" "$REDIS_PORT" "$T/$name-$aot.db" "$logfile" \
		CATALOG_CACHE_KEYPREFIX="aot-$RUN:product:" "$@"
	local id
	id="$(curl -fsS -H 'Content-Type: application/json' -d '{"name":"Aot","price":1.00,"stock_quantity":1}' \
		"$BASE/products" | sed 's/.*"id":\([0-9]*\).*/\1/')"
	curl -fsS -o /dev/null -D "$T/$name-$aot.first" "$BASE/products/$id"
	sleep 0.3
	curl -fsS -o /dev/null -D "$T/$name-$aot.second" \
		-H "traceparent: 00-$(printf '%032x' "$RUN")-00f067aa0ba902b7-01" "$BASE/products/$id"
	sleep 1.5   # the span exporter's batch (OTEL_BSP_SCHEDULE_DELAY below)
	bench_kill9 "$APP_PID"
	LOG="$logfile"
	SECOND="$T/$name-$aot.second"
}

verdict() { if "$@"; then echo "takes effect"; else echo "IGNORED"; fi; }
# Virtual request threads are Tomcat's "tomcat-handler-N" (the log keeps the last 15
# characters of a thread's name); platform ones "http-nio-PORT-exec-N".
virtual_threads() { grep -q 'handler-[0-9]*\] .*CACHE' "$LOG"; }
spans_exported() { grep -q '^/v1/traces$' "$T/collected"; }
# The JVM's own warnings (a jar without native access enabled, on JDK 22+: "WARNING: A
# restricted method ..." and a blank line) go to stderr, which this script writes to the
# same log: they are not the service's lines.
json_lines() { [ -s "$LOG" ] && ! grep -v -e '^WARNING: ' -e '^$' "$LOG" | grep -qv '^{'; }
near_on() { grep -q 'Near cache on' "$LOG"; }
near_off() { ! near_on; }
cached() { grep -qi '^x-cache: HIT' "$SECOND"; }

printf '%-44s %-14s %-14s\n' setting "AOT off" "AOT on"
check() {
	local label="$1" test="$2" name="$3"
	shift 3
	local off on
	: >"$T/collected"
	run false "$name" "$@"
	off="$(verdict "$test")"
	: >"$T/collected"
	run true "$name" "$@"
	on="$(verdict "$test")"
	printf '%-44s %-14s %-14s\n' "$label" "$off" "$on"
	echo "AOT_SETTING name=$name off=\"$off\" on=\"$on\"" >>"$T/results"
}
check "VIRTUAL_THREADS=true: virtual request threads" virtual_threads virtual VIRTUAL_THREADS=true
check "OTEL_EXPORTER_OTLP_ENDPOINT: spans exported" spans_exported otel \
	OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$COLLECTOR_PORT" OTEL_BSP_SCHEDULE_DELAY=100
check "LOG_FORMAT=json: every line JSON" json_lines json LOG_FORMAT=json
check "CACHE_NEAR_ENABLED=true: near cache on" near_on near-on CACHE_NEAR_ENABLED=true
check "CACHE_NEAR_ENABLED=false: near cache off" near_off near-off CACHE_NEAR_ENABLED=false
check "REDIS_SENTINEL_*: cached through Sentinel" cached sentinel REDIS_PORT="$NOWHERE" \
	REDIS_SENTINEL_MASTER=catalog REDIS_SENTINEL_NODES="127.0.0.1:$SENTINEL_PORT"
check "REDIS_CLUSTER_NODES: cached on a Cluster" cached cluster REDIS_PORT="$NOWHERE" \
	REDIS_CLUSTER_NODES="127.0.0.1:${CLUSTER_PORTS[0]},127.0.0.1:${CLUSTER_PORTS[1]}"
echo
cat "$T/results"
echo "jar: $AOT_JAR; java: $("$JAVA" -version 2>&1 | sed -n 2p); commit $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo '?')"
