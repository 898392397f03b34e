#!/usr/bin/env bash
# The container check: builds the Dockerfile with podman, runs the image, then brings up
# docker-compose.yml itself with podman-compose, and checks each as a user would meet it.
# Run from anywhere, as root, after `./mvnw verify` (CI: .ci/run).
#
#   1. image:   its OCI labels, SBOM and OS package list (docker/check-contents.sh),
#               /health 200 within a bound, POST then GET twice -> X-Cache MISS then HIT,
#               the process runs as uid 10001, the HEALTHCHECK passes, `podman stop` ends it
#               with a graceful shutdown inside the grace period, and the product is still
#               there in a new container on the same data volume.
#   2. compose: the same through docker-compose.yml with an override that only swaps the
#               images for stand-ins, plus: Redis requires the password from REDIS_PASSWORD,
#               persists nothing and has maxmemory; the API container is read-only with no
#               capabilities and no-new-privileges, logs rotate, only 127.0.0.1 is published
#               and the management port is not; `down` then `up` keeps the data; `down -v`.
#   3. tls:     the compose Redis over TLS set up through .env values (docker/check-tls.sh).
#   4. ha:      the `ha` profile: two instances, PostgreSQL, a Sentinel fail-over
#               (docker/check-ha.sh).
# podman-compose 1.0.3 knows no profiles: every `up` here names its services.
#
# Every wait is bounded (timeout, or a loop with a deadline).
# Exit status: 0 when every check passed, or when this machine cannot run any container at
# all (one line says why); non-zero when our image or our compose file fails a check.
# Everything it creates (containers, networks, volumes, its compose image) is removed at
# the end, also on failure; the stand-in base images are kept for the next run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"
# shellcheck source=podman-env.sh
. "$here/podman-env.sh"
# shellcheck source=check-lib.sh
. "$here/check-lib.sh"

# Names are prefixed so cleanup removes only what this script made.
PREFIX=catalog-check
IMAGE=localhost/catalog-check/api:latest
COMPOSE_IMAGE=localhost/catalog-check/compose-api:latest
PROJECT=catalog-check
STAND_IN_JDK=localhost/catalog-stand-in/jdk:17
STAND_IN_JRE=localhost/catalog-stand-in/jre:25
STAND_IN_REDIS=localhost/catalog-stand-in/redis:7
STAND_IN_BASE=localhost/catalog-stand-in/debian-minbase:bookworm
HEALTH_BOUND=180     # seconds from start to /health 200 (here: 15-25 s idle, 103 s on a loaded machine)
GRACE=30             # seconds `podman stop` waits before SIGKILL (compose: stop_grace_period)

work="$(mktemp -d)"
podman_env_setup "$work"

# Where the machine itself cannot run containers: say so once and let CI go on.
cannot_run_here() {
  echo "container-check: SKIPPED: this machine cannot run containers ($*); the image and compose checks did not run"
  exit 0
}

cleanup() {
  local status=$?
  set +e
  if [ -f "$work/compose-up" ]; then
    compose down -v -t "$GRACE" >"$work/compose-down.log" 2>&1
  fi
  podman rm -f -t 0 "$PREFIX-api" "$PREFIX-redis" >/dev/null 2>&1
  podman volume rm -f "$PREFIX-data" "${PROJECT}_catalog-data" >/dev/null 2>&1
  # podman-compose 1.0.3 leaves its project network behind after `down`.
  podman network rm -f "$PREFIX-net" "${PROJECT}_default" >/dev/null 2>&1
  podman rmi -f "$COMPOSE_IMAGE" >/dev/null 2>&1
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

expect_product() {
  local port="$1" id="$2" name="$3"
  local status
  status=$(http GET "http://127.0.0.1:$port/products/$id")
  [ "$status" = 200 ] && grep -q "\"name\":\"$name\"" "$work/body" \
    || fail "product $id not there after the restart (status $status: $(cat "$work/body"))"
}

# The real process's uid, read from the host (the exec user could differ from it).
expect_uid() {
  local container="$1" pid uid
  pid=$(podman inspect -f '{{.State.Pid}}' "$container")
  uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
  [ "$uid" = 10001 ] || fail "$container: the process runs as uid $uid, not 10001"
}

# The JVM maps the image's AOT cache and did not reject it: with a cache it cannot use
# (another JDK, class path or GC) it starts anyway, only slower, and says so. (JDK 25.0.3
# also warns "Failed to link AdapterHandlerEntry ... in the AOT code cache" for a few
# adapters while using the cache: not a rejection.)
expect_aot_cache() {
  local container="$1" pid
  pid=$(podman inspect -f '{{.State.Pid}}' "$container")
  grep -q '/app/app.aot' "/proc/$pid/maps" || fail "$container: the JVM did not map its AOT cache /app/app.aot"
  podman logs "$container" >"$work/aot.log" 2>&1
  if grep -E '\[(warning|error)\]\[(aot|cds)' "$work/aot.log" | grep -qiE 'unable to use|disabled|mismatch|error has occurred'; then
    grep -E '\[(warning|error)\]\[(aot|cds)' "$work/aot.log" | head -n 5 >&2
    fail "$container: the JVM rejected its AOT cache"
  fi
}

# SQLite's driver loads its native library: on JDK 22 and newer the JVM warns on stderr
# ("WARNING: A restricted method in java.lang.System has been called"; four lines that are
# not JSON under LOG_FORMAT=json) and says a future release will refuse the call, unless
# the jar's manifest enables native access.
expect_native_access() {
  local container="$1"
  podman logs "$container" >"$work/native.log" 2>&1
  if grep -q 'WARNING: A restricted method' "$work/native.log"; then
    grep '^WARNING: ' "$work/native.log" | head -n 4 >&2
    fail "$container: the JVM warns about a restricted method (native access not enabled)"
  fi
}

expect_healthcheck() {
  podman healthcheck run "$1" >"$work/hc" 2>&1 || fail "$1: HEALTHCHECK failed: $(cat "$work/hc")"
}

# SIGTERM, then: exit status 143 (the JVM ended on SIGTERM, not 137 for SIGKILL), Spring's
# "Graceful shutdown complete" in the log, and inside the grace period.
expect_graceful_stop() {
  local container="$1" start took code
  start=$(date +%s)
  podman stop -t "$GRACE" "$container" >/dev/null 2>"$work/podman.err"
  took=$(($(date +%s) - start))
  code=$(podman inspect -f '{{.State.ExitCode}}' "$container")
  [ "$code" = 143 ] || fail "$container: exit status $code after podman stop (143 expected: SIGTERM, clean exit)"
  # Into a file first: `grep -q` would stop reading early, and pipefail would then count
  # podman's broken pipe as a failure.
  podman logs "$container" >"$work/stopped.log" 2>&1
  grep -q 'Graceful shutdown complete' "$work/stopped.log" \
    || fail "$container: no 'Graceful shutdown complete' in its log"
  [ "$took" -lt "$GRACE" ] || fail "$container: stop took ${took}s, not inside the ${GRACE}s grace period"
  echo "$took"
}

# --- can this machine run containers at all? -------------------------------------------
command -v podman >/dev/null 2>&1 || cannot_run_here "podman is not installed"
command -v curl >/dev/null 2>&1 || fail "curl is not installed"
if ! timeout 2400 "$here/stand-ins.sh" >"$work/stand-ins.log" 2>&1; then
  tail -n 5 "$work/stand-ins.log" >&2
  cannot_run_here "the stand-in base images could not be built, see the lines above"
fi
if ! podman run --rm --network none "$STAND_IN_BASE" true >"$work/trivial.log" 2>&1; then
  cannot_run_here "podman cannot start a trivial container: $(tail -n 1 "$work/trivial.log")"
fi
log "podman $(podman version -f '{{.Client.Version}}'), stand-in images ready"

# --- 1. the image ----------------------------------------------------------------------
start=$(date +%s)
# The OCI labels' values from git and the pom, as a user's build would pass them.
"$here/build-args.sh" >"$work/build-args"
# shellcheck disable=SC2046 # one word per option: the values have no spaces
timeout 1800 podman build --format docker --build-arg JDK_IMAGE="$STAND_IN_JDK" --build-arg JRE_IMAGE="$STAND_IN_JRE" \
  $(cat "$work/build-args") -t "$IMAGE" . >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log" >&2; fail "podman build of the Dockerfile"; }
log "image built in $(($(date +%s) - start))s"
case "$(podman image inspect -f '{{.Config.Healthcheck}}' "$IMAGE")" in
  *health*) ;;
  *) fail "the image has no HEALTHCHECK (built without --format docker?)" ;;
esac
# The labels, the SBOM and the OS package list.
"$here/check-contents.sh" "$IMAGE" "$work/build-args"

api_port=$(free_port 18080 18099)
podman network create "$PREFIX-net" >/dev/null 2>"$work/podman.err"
# podman's stderr (e.g. "unable to get systemd connection" where there is no systemd for
# periodic health checks) goes to a file, shown only on failure.
podman run -d --name "$PREFIX-redis" --network "$PREFIX-net" "$STAND_IN_REDIS" \
  --save "" --appendonly no >/dev/null 2>"$work/podman.err" || { cat "$work/podman.err" >&2; fail "podman run redis"; }
run_api() {
  podman run -d --name "$PREFIX-api" --network "$PREFIX-net" -p "127.0.0.1:$api_port:8080" \
    -e REDIS_HOST="$PREFIX-redis" -v "$PREFIX-data:/app/data" "$IMAGE" >/dev/null 2>"$work/podman.err" \
    || { cat "$work/podman.err" >&2; fail "podman run of the image"; }
}
run_api
took=$(await_health "$api_port" "$PREFIX-api")
log "image: /health 200 with the cache up after ${took}s"
id=$(create_and_read_twice "$api_port" "Image check")
log "image: POST then GET twice: MISS, HIT"
expect_uid "$PREFIX-api"
log "image: the process runs as uid 10001"
expect_aot_cache "$PREFIX-api"
log "image: the JVM uses the AOT cache made at build time"
expect_native_access "$PREFIX-api"
log "image: the JVM starts without a native-access warning"
expect_healthcheck "$PREFIX-api"
log "image: HEALTHCHECK passes"
took=$(expect_graceful_stop "$PREFIX-api")
log "image: podman stop -> graceful shutdown, exit 143, in ${took}s"
podman rm "$PREFIX-api" >/dev/null 2>"$work/podman.err"
run_api
await_health "$api_port" "$PREFIX-api" >/dev/null
expect_product "$api_port" "$id" "Image check"
log "image: a new container on the same volume still has product $id"
podman rm -f -t "$GRACE" "$PREFIX-api" "$PREFIX-redis" >/dev/null 2>"$work/podman.err"
podman volume rm "$PREFIX-data" >/dev/null
podman network rm "$PREFIX-net" >/dev/null 2>"$work/podman.err"

# --- 2. docker-compose.yml -------------------------------------------------------------
# Values a user would put in .env; the shell's environment wins over .env in both Docker
# Compose and podman-compose, and a clean clone has no .env.
export API_PORT="$api_port"
export REDIS_PASSWORD="check-$RANDOM$RANDOM"
export API_KEY="check-key-$(date +%s%N)"
api="${PROJECT}_api-service_1"
redis="${PROJECT}_redis_1"
# Docker Compose's plain `up` starts the services without a profile: they must be exactly
# today's two. (podman-compose 1.0.3 knows no profiles, so this check names the service.)
default_services=$(python3 -c '
import sys, yaml
services = yaml.safe_load(open("docker-compose.yml"))["services"]
print(" ".join(sorted(n for n, s in services.items() if not s.get("profiles"))))')
[ "$default_services" = "api-service redis" ] \
  || fail "compose: services without a profile are '$default_services', not 'api-service redis'"
log "compose: only api-service and redis start without a profile"
touch "$work/compose-up"
start=$(date +%s)
compose up -d api-service >"$work/compose-up.log" 2>&1 || { tail -n 30 "$work/compose-up.log" >&2; fail "podman-compose up"; }
log "compose: up (with its build) in $(($(date +%s) - start))s"
took=$(await_health "$api_port" "$api")
log "compose: /health 200 with the cache up after ${took}s"
id=$(create_and_read_twice "$api_port" "Compose check" -H "X-API-Key: $API_KEY")
log "compose: POST (with the API key) then GET twice: MISS, HIT (Redis with its password)"
status=$(http POST "http://127.0.0.1:$api_port/products" -H 'Content-Type: application/json' \
  --data '{"name": "No key", "price": 1, "stock_quantity": 1}')
[ "$status" = 401 ] || fail "compose: a write without the API key from .env answered $status, not 401"

case "$(podman exec "$redis" sh -c 'unset REDISCLI_AUTH; redis-cli ping' 2>&1)" in
  *NOAUTH*) ;;
  *) fail "compose: Redis answers without the password" ;;
esac
redis_config() {
  podman exec "$redis" redis-cli config get "$1" | sed -n 2p
}
[ -z "$(redis_config save)" ] && [ "$(redis_config appendonly)" = no ] \
  || fail "compose: Redis persists (save '$(redis_config save)', appendonly $(redis_config appendonly))"
[ "$(redis_config maxmemory-policy)" = allkeys-lru ] && [ "$(redis_config maxmemory)" -gt 0 ] \
  || fail "compose: Redis maxmemory $(redis_config maxmemory), policy $(redis_config maxmemory-policy)"
log "compose: Redis needs the password, keeps nothing on disk, maxmemory $(redis_config maxmemory) allkeys-lru"

expect_uid "$api"
pid=$(podman inspect -f '{{.State.Pid}}' "$api")
[ "$(podman inspect -f '{{.HostConfig.ReadonlyRootfs}}' "$api")" = true ] || fail "compose: the API's root file system is writable"
podman exec "$api" sh -c 'touch /app/x' 2>/dev/null && fail "compose: /app is writable"
podman exec "$api" sh -c 'touch /tmp/x && rm /tmp/x' || fail "compose: /tmp is not writable"
grep -q '^CapEff:[[:space:]]*0000000000000000' "/proc/$pid/status" || fail "compose: the API process has capabilities"
grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$pid/status" || fail "compose: no-new-privileges is off"
log "compose: uid 10001, read-only root with a writable /tmp, no capabilities, no-new-privileges"
# podman shows the compose file's max-size as the log's Size (it keeps one file).
log_size=$(podman inspect -f '{{.HostConfig.LogConfig.Size}}' "$api")
[ "$log_size" = 10MB ] || fail "compose: the API's log is not limited to 10MB (Size '$log_size')"
ports=$(podman port "$api")
[ "$ports" = "8080/tcp -> 127.0.0.1:$api_port" ] || fail "compose: published ports are '$ports' (only 127.0.0.1:$api_port expected)"
log "compose: logs rotate at 10 MB; only 127.0.0.1:$api_port is published (no management port)"
expect_healthcheck "$api"
log "compose: HEALTHCHECK passes"
took=$(expect_graceful_stop "$api")
log "compose: podman stop -> graceful shutdown, exit 143, in ${took}s"

compose down -t "$GRACE" >"$work/compose-down.log" 2>&1 || { cat "$work/compose-down.log" >&2; fail "podman-compose down"; }
compose up -d api-service >"$work/compose-up.log" 2>&1 || { tail -n 30 "$work/compose-up.log" >&2; fail "podman-compose up (again)"; }
await_health "$api_port" "$api" >/dev/null
expect_product "$api_port" "$id" "Compose check"
log "compose: down, then up: product $id is still there"
compose down -v -t "$GRACE" >"$work/compose-down.log" 2>&1 || { cat "$work/compose-down.log" >&2; fail "podman-compose down -v"; }
rm -f "$work/compose-up"
podman network rm -f "${PROJECT}_default" >/dev/null 2>&1 || true
expect_project_gone
log "compose: down -v: no container, volume or network left"

# --- 3. the compose Redis over TLS, 4. the ha profile ---------------------------------
# Both reuse the compose image built above (removed at the end of this script).
"$here/check-tls.sh"
"$here/check-ha.sh"
log "all checks passed"
