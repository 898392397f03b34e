# Shared by the .ci scripts that run a tool against the packaged service (postman.sh,
# swagger-ui.sh, contract.sh): sourced, not run. Set CI_NAME before sourcing it; it prefixes log lines and
# names the temp dir.
#
#   ci_npm_tools DIR pkg@version...   npm install, pinned, into a cache folder outside the repo
#   ci_jar                            the packaged jar, built when missing or older than src/
#                                     (CI_JAR=path: that jar instead)
#   ci_start_service [VAR=value...]   a redis-server of its own and the jar on free ports of
#                                     127.0.0.1, a fresh SQLite file, an API key; extra
#                                     environment for the service as arguments
#
# Everything started is stopped on exit (by pid), and every wait is bounded. After
# ci_start_service: $api_port, $api_key, $service_log, $TMP.

log() { printf '[%s] %s\n' "$CI_NAME" "$*" >&2; }
die() { log "ERROR: $*"; exit 2; }

TMP="$(mktemp -d "${TMPDIR:-/tmp}/$CI_NAME.XXXXXX")"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]:-}"; do
    [ -n "$pid" ] || continue
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]:-}"; do
    [ -n "$pid" ] || continue
    # a bounded wait for a graceful stop, then SIGKILL
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for cmd in java redis-server redis-cli node npm curl; do
  command -v "$cmd" >/dev/null 2>&1 || die "$cmd is missing"
done

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# A free port that no earlier call of this script handed out. Neither listened on nor the
# local end of any connection (the range overlaps the kernel's ephemeral ports: a port
# nothing listens on failed a bind with "Address already in use" once), as
# bench/lib.sh's bench_free_port checks.
USED_PORTS=" "
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 40000))
    case "$USED_PORTS" in *" $p "*) continue ;; esac
    port_open "$p" && continue
    ss -Htan "( sport = :$p )" 2>/dev/null | grep -q . && continue
    USED_PORTS="$USED_PORTS$p "
    echo "$p"
    return 0
  done
  die "no free port found"
}

ci_npm_tools() {
  local dir="$1"
  shift
  local stamp="$dir/.installed"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$*" ]; then
    log "installing $* into $dir"
    mkdir -p "$dir"
    timeout 600 npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "$@" >&2 \
      || die "npm install $* failed"
    echo "$*" >"$stamp"
  fi
}

ci_jar() {
  if [ -n "${CI_JAR:-}" ]; then # another build, e.g. an older one to compare with
    jar="$CI_JAR"
    return
  fi
  jar="$(ls -t target/product-catalog-*.jar 2>/dev/null | grep -v -- '-plain\.jar$' | head -n 1 || true)"
  if [ -z "$jar" ] || [ -n "$(find src pom.xml -newer "$jar" -print -quit 2>/dev/null)" ]; then
    log "building the jar: ./mvnw -q -B -DskipTests package"
    chmod +x mvnw
    ./mvnw -q -B -DskipTests package >&2 || die "the build failed"
    jar="$(ls -t target/product-catalog-*.jar | grep -v -- '-plain\.jar$' | head -n 1)"
  fi
}

ci_start_service() {
  ci_jar
  local redis_port management_port
  redis_port="$(free_port)"
  api_port="$(free_port)"
  management_port="$(free_port)"
  # The service refuses keys shorter than 16 characters.
  api_key="$CI_NAME-$(date +%s%N)"
  service_log="$TMP/service.log"

  redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no --loglevel warning \
    >"$TMP/redis.log" 2>&1 &
  PIDS+=("$!")
  for _ in $(seq 1 100); do
    redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null | grep -q PONG && break
    sleep 0.05
  done
  redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null | grep -q PONG || die "redis-server did not start: $(cat "$TMP/redis.log")"

  log "starting $jar on port $api_port (Redis on $redis_port, SQLite in $TMP)"
  env -u LOG_FORMAT -u SEED_DEMO_DATA API_PORT="$api_port" MANAGEMENT_PORT="$management_port" REDIS_HOST=127.0.0.1 REDIS_PORT="$redis_port" \
    DATABASE_URL="jdbc:sqlite:$TMP/data/catalog.db" API_KEY="$api_key" "$@" \
    java -jar "$jar" >"$service_log" 2>&1 &
  PIDS+=("$!")
  local service_pid="$!"
  local deadline=$((SECONDS + 300))
  until curl -fsS -m 2 "http://127.0.0.1:$api_port/health" >/dev/null 2>&1; do
    if ! kill -0 "$service_pid" 2>/dev/null; then
      tail -n 40 "$service_log" >&2
      die "the service exited during start-up"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 40 "$service_log" >&2
      die "the service did not answer /health within 300 s"
    fi
    sleep 0.5
  done
}
