#!/usr/bin/env bash
# Start-up to a healthy GET /health (200) for four ways of running the same jar, alternated
# round by round so that the machine's load hits them alike:
#   jdk17-jar   JDK 17, the fat jar (java -jar app.jar)
#   jdk17-cds   JDK 17, Spring Boot's extracted layout + a dynamic CDS archive
#               (training run: -XX:ArchiveClassesAtExit -Dspring.context.exit=onRefresh,
#               then -XX:SharedArchiveFile)
#   jdk25-ext   JDK 25, the extracted layout, no archive of our own
#   jdk25-aot   JDK 25, the extracted layout + an AOT cache (JEP 483/514/515; training run:
#               -XX:AOTCacheOutput -Dspring.context.exit=onRefresh, then -XX:AOTCache)
#   jdk25-saot  as jdk25-aot, with Spring's AOT processing on (-Dspring.aot.enabled=true):
#               needs BENCH_JAR= a jar built with spring-boot:process-aot (issue #26 goal 5)
# For each start: wall seconds from exec to the first 200 from /health (polled every 50 ms),
# and the CPU seconds (user + system) the JVM had used by then, which is what to compare on a
# shared machine: wall time includes waiting for the cores. Prints the median of RUNS starts
# per variant, the archive sizes and the load.
#
# Every start uses the same SQLite file, migrated by the training runs (a restart, not a first
# start: Flyway only validates), and its own private redis-server.
#
# Usage: bench/startup.sh [RUNS]
# Env:   JDK17=/usr/lib/jvm/java-17-openjdk-amd64 JDK25=/usr/lib/jvm/temurin-25-jdk-amd64
#        VARIANTS="jdk17-jar jdk17-cds jdk25-ext jdk25-aot" BENCH_JAVA_OPTS= (added to every
#        start and training run) BENCH_QUIET_WAIT=60 BENCH_KEEP=0
source "$(dirname "$0")/lib.sh"

RUNS="${1:-5}"
JDK17="${JDK17:-/usr/lib/jvm/java-17-openjdk-amd64}"
JDK25="${JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}"
VARIANTS="${VARIANTS:-jdk17-jar jdk17-cds jdk25-ext jdk25-aot}"

bench_init
bench_need_service
[ -x "$JDK17/bin/java" ] || die "no JDK 17 at $JDK17 (set JDK17)"
[ -x "$JDK25/bin/java" ] || die "no JDK 25 at $JDK25 (set JDK25)"

bench_single_service
bench_start_redis "$REDIS_PORT"
HZ="$(getconf CLK_TCK 2>/dev/null || echo 100)"

# The environment of every start: the private Redis, the one SQLite file, free ports.
# exec: started with `&`, the background job's pid is then the JVM's own (its CPU time is
# read, and it is what gets killed), not a subshell's.
app_env() {
	exec env -u API_KEY -u JAVA_TOOL_OPTIONS API_PORT="$API_PORT" MANAGEMENT_PORT="$MANAGEMENT_PORT" \
		REDIS_HOST=127.0.0.1 REDIS_PORT="$REDIS_PORT" DATABASE_URL="jdbc:sqlite:$DB" "$@"
}
MANAGEMENT_PORT="$(bench_free_port)"

# Spring Boot's extracted layout (app.jar + lib/), one per JDK: an archive is tied to the JDK
# and to the exact class path it was trained on.
extract() {
	local java="$1" dir="$2"
	"$java" -Djarmode=tools -jar "$JAR" extract --destination "$dir" >"$T/extract.log" 2>&1 \
		|| { cat "$T/extract.log" >&2; die "extracting the jar with $java failed"; }
	[ -f "$dir/$(basename "$JAR")" ] || die "no $(basename "$JAR") in $dir after the extraction"
}

# train NAME JAVA ARGS...: a training run (the context refreshes, then the JVM exits).
# spring.context.exit is read from system properties only (SpringProperties), not from
# program arguments.
train() {
	local name="$1" java="$2"
	shift 2
	log "training run: $name"
	local start=$SECONDS
	# shellcheck disable=SC2086
	(app_env "$java" -Dspring.context.exit=onRefresh ${BENCH_JAVA_OPTS:-} "$@" >"$T/train-$name.log" 2>&1) \
		|| { tail -n 30 "$T/train-$name.log" >&2; die "the training run $name failed"; }
	log "training run $name took $((SECONDS - start)) s"
}

APP_JAR="$(basename "$JAR")"
declare -A CMD
for v in $VARIANTS; do
	case "$v" in
		jdk17-jar) CMD[$v]="$JDK17/bin/java -jar $JAR" ;;
		jdk17-cds)
			extract "$JDK17/bin/java" "$T/x17"
			train jdk17-cds "$JDK17/bin/java" -XX:ArchiveClassesAtExit="$T/app17.jsa" -jar "$T/x17/$APP_JAR"
			CMD[$v]="$JDK17/bin/java -XX:SharedArchiveFile=$T/app17.jsa -jar $T/x17/$APP_JAR" ;;
		jdk25-ext)
			[ -d "$T/x25" ] || extract "$JDK25/bin/java" "$T/x25"
			CMD[$v]="$JDK25/bin/java -jar $T/x25/$APP_JAR" ;;
		jdk25-aot)
			[ -d "$T/x25" ] || extract "$JDK25/bin/java" "$T/x25"
			train jdk25-aot "$JDK25/bin/java" -XX:AOTCacheOutput="$T/app25.aot" -jar "$T/x25/$APP_JAR"
			CMD[$v]="$JDK25/bin/java -XX:AOTCache=$T/app25.aot -jar $T/x25/$APP_JAR" ;;
		jdk25-saot)
			# Needs a jar built with Spring's AOT processing (its process-aot goal):
			# BENCH_JAR=... Spring then builds the context from the generated code.
			[ -d "$T/x25" ] || extract "$JDK25/bin/java" "$T/x25"
			train jdk25-saot "$JDK25/bin/java" -Dspring.aot.enabled=true -XX:AOTCacheOutput="$T/app25s.aot" -jar "$T/x25/$APP_JAR"
			CMD[$v]="$JDK25/bin/java -Dspring.aot.enabled=true -XX:AOTCache=$T/app25s.aot -jar $T/x25/$APP_JAR" ;;
		*) die "unknown variant $v" ;;
	esac
done
# Without a training run the file is not migrated yet: one untimed start does it.
if [ ! -f "$DB" ]; then
	log "migrating the database (untimed start)"
	train migrate "$JDK17/bin/java" -jar "$JAR"
fi

# measure VARIANT: prints "WALL CPU" in seconds, or dies. -Xshare:auto is the default: an
# archive the JVM rejects is only a warning, which the log check below catches.
measure() {
	local v="$1" logfile="$T/run-$1.log" pid t0 t1 ticks
	: >"$logfile"
	! bench_port_open "$API_PORT" || die "something already listens on $API_PORT"
	t0="$(now_ms)"
	# shellcheck disable=SC2086
	app_env ${CMD[$v]/ -jar / ${BENCH_JAVA_OPTS:-} -jar } >>"$logfile" 2>&1 &
	pid=$!
	bench_track "$pid"
	while true; do
		if curl -fsS -m 1 -o /dev/null "http://127.0.0.1:$API_PORT/health" 2>/dev/null; then
			t1="$(now_ms)"
			ticks="$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }')"
			break
		fi
		kill -0 "$pid" 2>/dev/null || { tail -n 30 "$logfile" >&2; die "$v exited during start-up"; }
		[ $(($(now_ms) - t0)) -lt 300000 ] || die "$v: no healthy /health within 300 s"
		sleep 0.05
	done
	if grep -qiE 'AOT cache .*(disabled|mismatch)|unable to use shared archive|An error has occurred while processing the shared archive|Mismatched values' "$logfile"; then
		grep -iE 'aot|shared archive|cds' "$logfile" | head -n 5 >&2
		die "$v: the JVM did not use its archive (see above)"
	fi
	bench_kill9 "$pid"
	awk -v w="$((t1 - t0))" -v c="$ticks" -v hz="$HZ" 'BEGIN { printf "%.2f %.2f\n", w / 1000, c / hz }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

bench_wait_quiet
LOAD_BEFORE="$(bench_loadavg)"
for r in $(seq 1 "$RUNS"); do
	for v in $VARIANTS; do
		# Not in $(...): the JVM's pid must be tracked by this shell, so that the cleanup on
		# exit kills it when a start fails.
		measure "$v" >"$T/last"
		res="$(cat "$T/last")"
		echo "$res" >>"$T/res-$v"
		log "round $r/$RUNS $v: wall ${res% *} s, cpu ${res#* } s (load $(bench_loadavg))"
	done
done

echo
echo "START-UP TO HEALTHY  $(date -u +%Y-%m-%dT%H:%MZ)  median of $RUNS starts each, alternated  jar=$APP_JAR  commit $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "JDK 17: $("$JDK17/bin/java" -version 2>&1 | sed -n 2p)"
echo "JDK 25: $("$JDK25/bin/java" -version 2>&1 | sed -n 2p)"
printf '%-10s %10s %10s %10s %10s  %s\n' variant "wall s" "cpu s" "min wall" "min cpu" "archive"
for v in $VARIANTS; do
	archive="-"
	case "$v" in
		jdk17-cds) archive="$(du -m "$T/app17.jsa" | cut -f1) MB" ;;
		jdk25-aot) archive="$(du -m "$T/app25.aot" | cut -f1) MB" ;;
		jdk25-saot) archive="$(du -m "$T/app25s.aot" | cut -f1) MB" ;;
	esac
	printf '%-10s %10s %10s %10s %10s  %s\n' "$v" "$(cut -d' ' -f1 "$T/res-$v" | median)" "$(cut -d' ' -f2 "$T/res-$v" | median)" \
		"$(cut -d' ' -f1 "$T/res-$v" | sort -g | head -n 1)" "$(cut -d' ' -f2 "$T/res-$v" | sort -g | head -n 1)" "$archive"
done
echo "machine load avg (1/5/15 min): before the timed starts $LOAD_BEFORE, at end $(bench_loadavg) (includes this run)"
for v in $VARIANTS; do
	echo "STARTUP variant=$v wall_s=$(cut -d' ' -f1 "$T/res-$v" | median) cpu_s=$(cut -d' ' -f2 "$T/res-$v" | median) runs=$RUNS"
done
