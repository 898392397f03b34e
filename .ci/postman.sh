#!/usr/bin/env bash
# Runs the Postman collection (src/test/postman/) with newman against the packaged service,
# so that the collection can never drift from the service.
#
# Starts, on free ports of 127.0.0.1: a redis-server of its own (no persistence) and the jar
# (target/product-catalog-*.jar, built with ./mvnw -DskipTests package when missing or older
# than src/) on a
# new SQLite file in a temp dir, with an API key, so that the collection's apiKey is
# exercised. Installs newman (npm, pinned) into a cache folder outside the repository when it
# is missing. Stops everything it started on exit (by pid), and bounds every wait.
#
# Usage: .ci/postman.sh            (exit status: newman's, or 2 if the set-up failed)
# Needs: a JDK 17+, redis-server, Node.js with npm, curl.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

NEWMAN_VERSION="6.2.2"
NEWMAN_DIR="${NEWMAN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/product-catalog/newman-$NEWMAN_VERSION}"
# The service refuses keys shorter than 16 characters.
API_KEY_FOR_RUN="postman-$(date +%s%N)"

log() { printf '[postman] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 2; }

TMP="$(mktemp -d "${TMPDIR:-/tmp}/postman.XXXXXX")"
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
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 40000))
    port_open "$p" || { echo "$p"; return 0; }
  done
  die "no free port found"
}

# --- newman ------------------------------------------------------------------------
NEWMAN="$NEWMAN_DIR/node_modules/.bin/newman"
if [ ! -x "$NEWMAN" ]; then
  log "installing newman@$NEWMAN_VERSION into $NEWMAN_DIR"
  mkdir -p "$NEWMAN_DIR"
  timeout 300 npm install --prefix "$NEWMAN_DIR" --no-audit --no-fund --loglevel=error "newman@$NEWMAN_VERSION" >&2 \
    || die "npm install newman@$NEWMAN_VERSION failed"
fi

# --- the jar -------------------------------------------------------------------------
jar="$(ls -t target/product-catalog-*.jar 2>/dev/null | grep -v -- '-plain\.jar$' | head -n 1 || true)"
if [ -z "$jar" ] || [ -n "$(find src pom.xml -newer "$jar" -print -quit 2>/dev/null)" ]; then
  log "building the jar: ./mvnw -q -B -DskipTests package"
  chmod +x mvnw
  ./mvnw -q -B -DskipTests package >&2 || die "the build failed"
  jar="$(ls -t target/product-catalog-*.jar | grep -v -- '-plain\.jar$' | head -n 1)"
fi

# --- Redis and the service ------------------------------------------------------------
redis_port="$(free_port)"
api_port="$(free_port)"
while [ "$api_port" = "$redis_port" ]; do api_port="$(free_port)"; done
management_port="$(free_port)"
while [ "$management_port" = "$redis_port" ] || [ "$management_port" = "$api_port" ]; do management_port="$(free_port)"; done

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
  DATABASE_URL="jdbc:sqlite:$TMP/data/catalog.db" API_KEY="$API_KEY_FOR_RUN" \
  java -jar "$jar" >"$TMP/service.log" 2>&1 &
PIDS+=("$!")
service_pid="$!"
deadline=$((SECONDS + 300))
until curl -fsS -m 2 "http://127.0.0.1:$api_port/health" >/dev/null 2>&1; do
  if ! kill -0 "$service_pid" 2>/dev/null; then
    tail -n 40 "$TMP/service.log" >&2
    die "the service exited during start-up"
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    tail -n 40 "$TMP/service.log" >&2
    die "the service did not answer /health within 300 s"
  fi
  sleep 0.5
done

# --- the collection -------------------------------------------------------------------
status=0
timeout 300 "$NEWMAN" run src/test/postman/product-catalog.postman_collection.json \
  --environment src/test/postman/product-catalog.postman_environment.json \
  --env-var "baseUrl=http://127.0.0.1:$api_port" --env-var "apiKey=$API_KEY_FOR_RUN" \
  --timeout-request 10000 --bail --color off || status=$?
if [ "$status" -ne 0 ]; then
  log "newman failed (exit $status); the service's log:"
  tail -n 60 "$TMP/service.log" >&2
fi
exit "$status"
