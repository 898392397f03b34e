#!/usr/bin/env bash
# JMH micro-benchmarks of the cache hit path (src/jmh/java, the Maven profile `jmh`),
# against a real Redis: a private redis-server on a free port, handed to the benchmark as
# REDIS_TEST_URL (as the tests read it). Not part of ./mvnw verify.
#
# Usage: bench/jmh.sh [JMH ARGS...]   e.g. bench/jmh.sh ProductCacheLookupBenchmark -p commands=plain
#        (default: every benchmark, JMH's table on stdout; -h lists JMH's options)
# Env:   BENCH_JAVA (a java binary, e.g. /usr/lib/jvm/temurin-25-jdk-amd64/bin/java; the
#        build itself runs on the java of PATH / JAVA_HOME), OUT (also write the table there)
source "$(dirname "$0")/lib.sh"
bench_init
bench_need redis-server redis-server
bench_need java openjdk-17-jdk-headless
cp_file="$BENCH_TMP/classpath.txt"
log "building the benchmarks: ./mvnw -q -B -Pjmh test-compile dependency:build-classpath"
./mvnw -q -B -Pjmh -Dspring-javaformat.skip=true test-compile dependency:build-classpath \
	-Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >&2 || die "the build failed"
REDIS_PORT="$(bench_free_port)"
bench_start_redis "$REDIS_PORT"
export REDIS_TEST_URL="redis://127.0.0.1:$REDIS_PORT"
java_bin="${BENCH_JAVA:-java}"
log "$("$java_bin" -version 2>&1 | head -n 1); commit $(git rev-parse --short HEAD); load avg $(bench_loadavg)"
args=("$@")
[ "${#args[@]}" -gt 0 ] || args=(ProductCacheLookupBenchmark)
"$java_bin" -cp "target/test-classes:target/classes:$(cat "$cp_file")" org.openjdk.jmh.Main "${args[@]}" \
	${OUT:+-rff "$OUT" -rf text}
bench_load_note
