# Sourced by the CI scripts that run a check against the packaged service (.ci/postman.sh,
# .ci/swagger-ui.sh), so that "start Redis and the jar on free ports" is written once.
#
# The sourcing script sets CI_NAME (its log prefix) and cd's to the repository root first.
# Sourcing this file makes a temp dir ($TMP) and a trap that stops, by pid, every process
# started through it (a bounded wait for a graceful stop, then SIGKILL) and removes $TMP.
#
#   require java redis-server ...       dies (exit 2) naming the first missing command
#   npm_tool DIR PACKAGE VERSION        installs PACKAGE@VERSION into DIR unless it is there
#   packaged_jar                        sets JAR, building it when missing or older than src/
#   start_service                       starts redis-server and the jar, each on a free
#                                       port of 127.0.0.1, the jar on a new SQLite file in
#                                       $TMP with an API key; sets API_PORT, MANAGEMENT_PORT,
#                                       REDIS_PORT, API_KEY_FOR_RUN, SERVICE_LOG, and returns
#                                       once /health answers (at most 300 s)
# shellcheck shell=bash

: "${CI_NAME:?set CI_NAME before sourcing .ci/lib.sh}"

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

require() {
  local cmd
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null 2>&1 || die "$cmd is missing"
  done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 40000))
    port_open "$p" || { echo "$p"; return 0; }
  done
  die "no free port found"
}

# npm packages live in a cache folder outside the repository, one folder per version.
npm_tool() {
  local dir="$1" package="$2" version="$3"
  [ -f "$dir/node_modules/$package/package.json" ] && return 0
  log "installing $package@$version into $dir"
  mkdir -p "$dir"
  # playwright-core never downloads a browser itself; the variable is for its relatives.
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 300 npm install --prefix "$dir" --no-audit --no-fund \
    --loglevel=error "$package@$version" >&2 || die "npm install $package@$version failed"
}

packaged_jar() {
  JAR="$(ls -t target/product-catalog-*.jar 2>/dev/null | grep -v -- '-plain\.jar$' | head -n 1 || true)"
  if [ -z "$JAR" ] || [ -n "$(find src pom.xml -newer "$JAR" -print -quit 2>/dev/null)" ]; then
    log "building the jar: ./mvnw -q -B -DskipTests package"
    chmod +x mvnw
    ./mvnw -q -B -DskipTests package >&2 || die "the build failed"
    JAR="$(ls -t target/product-catalog-*.jar | grep -v -- '-plain\.jar$' | head -n 1)"
  fi
}

start_service() {
  packaged_jar
  REDIS_PORT="$(free_port)"
  API_PORT="$(free_port)"
  while [ "$API_PORT" = "$REDIS_PORT" ]; do API_PORT="$(free_port)"; done
  MANAGEMENT_PORT="$(free_port)"
  while [ "$MANAGEMENT_PORT" = "$REDIS_PORT" ] || [ "$MANAGEMENT_PORT" = "$API_PORT" ]; do
    MANAGEMENT_PORT="$(free_port)"
  done
  # The service refuses keys shorter than 16 characters.
  API_KEY_FOR_RUN="$CI_NAME-$(date +%s%N)"
  SERVICE_LOG="$TMP/service.log"

  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no --loglevel warning \
    >"$TMP/redis.log" 2>&1 &
  PIDS+=("$!")
  for _ in $(seq 1 100); do
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break
    sleep 0.05
  done
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG \
    || die "redis-server did not start: $(cat "$TMP/redis.log")"

  log "starting $JAR on port $API_PORT (Redis on $REDIS_PORT, SQLite in $TMP)"
  env -u LOG_FORMAT -u SEED_DEMO_DATA API_PORT="$API_PORT" MANAGEMENT_PORT="$MANAGEMENT_PORT" \
    REDIS_HOST=127.0.0.1 REDIS_PORT="$REDIS_PORT" DATABASE_URL="jdbc:sqlite:$TMP/data/catalog.db" \
    API_KEY="$API_KEY_FOR_RUN" java -jar "$JAR" >"$SERVICE_LOG" 2>&1 &
  PIDS+=("$!")
  local service_pid="$!" deadline=$((SECONDS + 300))
  until curl -fsS -m 2 "http://127.0.0.1:$API_PORT/health" >/dev/null 2>&1; do
    if ! kill -0 "$service_pid" 2>/dev/null; then
      tail -n 40 "$SERVICE_LOG" >&2
      die "the service exited during start-up"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 40 "$SERVICE_LOG" >&2
      die "the service did not answer /health within 300 s"
    fi
    sleep 0.5
  done
}
