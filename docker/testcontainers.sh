#!/usr/bin/env bash
# Runs Redis integration tests once through Testcontainers, the path users' CI takes when it
# has Docker, against podman's Docker-compatible API: `podman system service` on a socket of
# our own, DOCKER_HOST pointing at it, Ryuk off (its image cannot be pulled here), and the
# stand-in Redis image tagged as the image the tests ask for (redis:7-alpine).
#
# It must prove that Testcontainers started the Redis: the tests fall back to a local
# redis-server when no container starts, so a green run alone proves nothing. The script
# checks that podman created a redis:7-alpine container during the run and that the test
# log says Testcontainers started it.
#
# Usage: docker/testcontainers.sh [test selection for -Dtest, default ProductApiTests]
# Exit status as docker/check.sh: 0 also when this machine cannot run containers at all.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"
# shellcheck source=podman-env.sh
. "$here/podman-env.sh"

TESTS="${1:-ProductApiTests}"
TEST_IMAGE=docker.io/library/redis:7-alpine
STAND_IN_REDIS=localhost/catalog-stand-in/redis:7
STAND_IN_BASE=localhost/catalog-stand-in/debian-minbase:bookworm
# PostgreSQL must not try a container (there is no postgres image here): the tests that
# need it get the machine's own server.
POSTGRES_URL="${POSTGRES_TEST_URL:-jdbc:postgresql://127.0.0.1:5432/test?user=postgres}"

work="$(mktemp -d)"
podman_env_setup "$work"
socket="$work/podman.sock"
service_pid=
tagged=
tc_properties="$HOME/.testcontainers.properties"
tc_properties_existed=false
[ -e "$tc_properties" ] && tc_properties_existed=true

log() { echo "testcontainers-check: $*"; }
fail() {
  echo "testcontainers-check: FAILED: $*" >&2
  exit 1
}
cannot_run_here() {
  echo "testcontainers-check: SKIPPED: this machine cannot run containers ($*); the Testcontainers path did not run"
  exit 0
}

cleanup() {
  local status=$?
  set +e
  # Ryuk is off: Testcontainers removes its containers at JVM exit, but not after a crash.
  # Only containers that appeared after our list was taken are ours (another run may be
  # going on beside this one); no list, nothing started, nothing to remove.
  if [ -f "$work/before" ]; then
    for id in $(podman ps -aq --filter label=org.testcontainers=true); do
      if ! grep -qx "$id" "$work/before"; then
        podman rm -f -t 0 "$id" >/dev/null 2>&1
      fi
    done
  fi
  if [ -n "$service_pid" ]; then
    kill "$service_pid" 2>/dev/null
    wait "$service_pid" 2>/dev/null
  fi
  if [ -n "$tagged" ]; then
    podman untag "$STAND_IN_REDIS" "$TEST_IMAGE" >/dev/null 2>&1
  fi
  # Testcontainers records the Docker it found here; a later run without DOCKER_HOST must
  # not look for our removed socket.
  if [ "$tc_properties_existed" = false ]; then
    rm -f "$tc_properties"
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

command -v podman >/dev/null 2>&1 || cannot_run_here "podman is not installed"
if ! timeout 2400 "$here/stand-ins.sh" >"$work/stand-ins.log" 2>&1; then
  tail -n 5 "$work/stand-ins.log" >&2
  cannot_run_here "the stand-in base images could not be built, see the lines above"
fi
if ! podman run --rm --network none "$STAND_IN_BASE" true >"$work/trivial.log" 2>&1; then
  cannot_run_here "podman cannot start a trivial container: $(tail -n 1 "$work/trivial.log")"
fi

if ! podman image exists "$TEST_IMAGE"; then
  podman tag "$STAND_IN_REDIS" "$TEST_IMAGE"
  tagged=yes
fi
podman ps -aq --filter label=org.testcontainers=true >"$work/before"

podman system service --time=0 "unix://$socket" >"$work/service.log" 2>&1 &
service_pid=$!
for _ in $(seq 1 100); do
  [ -S "$socket" ] && break
  sleep 0.1
done
[ -S "$socket" ] || cannot_run_here "podman system service did not open its socket: $(tail -n 1 "$work/service.log")"

log "running $TESTS with DOCKER_HOST=unix://$socket"
start=$(date +%s)
since="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
status=0
env -u REDIS_TEST_URL DOCKER_HOST="unix://$socket" TESTCONTAINERS_RYUK_DISABLED=true \
  POSTGRES_TEST_URL="$POSTGRES_URL" \
  timeout 1800 ./mvnw -B -Dtest="$TESTS" -Dsurefire.failIfNoSpecifiedTests=false test >"$work/mvn.log" 2>&1 || status=$?
grep -E '^\[(INFO|ERROR|WARNING)\] Tests run:|BUILD (SUCCESS|FAILURE)' "$work/mvn.log" | tail -n 5
if [ "$status" -ne 0 ] || ! grep -q 'Container redis:7-alpine started in' "$work/mvn.log"; then
  # Keep the whole log for a look at what Testcontainers did.
  cp "$work/mvn.log" "${TMPDIR:-/tmp}/testcontainers-check-mvn.log"
  log "the whole test log: ${TMPDIR:-/tmp}/testcontainers-check-mvn.log"
fi
[ "$status" -eq 0 ] || { tail -n 60 "$work/mvn.log" >&2; fail "the tests failed through Testcontainers"; }

# The proof: podman created a container of the tests' image during the run (Testcontainers
# removes it at JVM exit when Ryuk is off, so look at podman's events, not `podman ps`), and
# Testcontainers logged that it started and passed its wait strategy.
# (podman 4.3's events --filter image= matches nothing here: compare the image ourselves.)
ran=$(podman events --since "$since" --stream=false --filter event=create --format '{{.Image}}' 2>/dev/null \
  | grep -cxF "$TEST_IMAGE" || true)
[ "$ran" -ge 1 ] || fail "podman created no $TEST_IMAGE container during the tests: they used the redis-server fallback"
grep -q 'Container redis:7-alpine started in' "$work/mvn.log" \
  || fail "the test log does not say Testcontainers started redis:7-alpine: the tests used the redis-server fallback"
grep -o 'Container redis:7-alpine started in.*' "$work/mvn.log" | head -n 1 | sed 's/^/testcontainers-check: /'
log "passed in $(($(date +%s) - start))s with $ran Redis container(s) started by Testcontainers"
