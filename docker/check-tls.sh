#!/usr/bin/env bash
# The compose Redis over TLS, set up through `.env` values only (here: the environment,
# which wins over .env): REDIS_SSL=true, REDIS_TLS_DIR with a CA and a server certificate
# made for this run by openssl, REDIS_SSL_CA=/tls/ca.crt. Checks: the API caches (POST, then
# GET twice: MISS, HIT), its cache health is UP, Redis answers a TLS client that trusts the
# CA, and a plain-text client gets no answer. Called by docker/check.sh (which built the
# compose image); runs alone too, as root, and then builds the image first.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."
# shellcheck source=podman-env.sh
. "$here/podman-env.sh"
# shellcheck source=check-lib.sh
. "$here/check-lib.sh"

PROJECT=catalog-check-tls
HEALTH_BOUND=180
GRACE=30
work="$(mktemp -d)"
# Writes open: docker/check.sh exports an API_KEY for its own compose run.
unset API_KEY
if [ -z "${CONTAINERS_CONF:-}" ]; then
  podman_env_setup "$work"
fi

cleanup() {
  local status=$?
  set +e
  if [ "$status" != 0 ]; then
    podman logs --tail 30 "${PROJECT}_api-service_1" 2>&1 | grep -iE 'redis|cache|warn|error' >&2
  fi
  compose down -v -t "$GRACE" >"$work/compose-down.log" 2>&1
  podman network rm -f "${PROJECT}_default" >/dev/null 2>&1
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

# A throwaway CA and a server certificate for the host name the API connects to (`redis`),
# and for 127.0.0.1 (the healthcheck's redis-cli inside the container).
tls="$work/tls"
mkdir -p "$tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=catalog check CA" \
  -keyout "$tls/ca.key" -out "$tls/ca.crt" >"$work/openssl.log" 2>&1 || { cat "$work/openssl.log" >&2; fail "openssl: CA"; }
openssl req -newkey rsa:2048 -nodes -subj "/CN=redis" -keyout "$tls/redis.key" -out "$tls/redis.csr" \
  >>"$work/openssl.log" 2>&1 || { cat "$work/openssl.log" >&2; fail "openssl: server key"; }
printf 'subjectAltName=DNS:redis,DNS:localhost,IP:127.0.0.1\n' >"$tls/san.ext"
openssl x509 -req -in "$tls/redis.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial -days 2 \
  -extfile "$tls/san.ext" -out "$tls/redis.crt" >>"$work/openssl.log" 2>&1 || { cat "$work/openssl.log" >&2; fail "openssl: server certificate"; }
rm -f "$tls/ca.key" "$tls/redis.csr" "$tls/san.ext" "$tls/ca.srl"
# The key for Redis's user only (uid 999); the folder and the certificates for everyone
# (the API runs as uid 10001 and reads ca.crt).
chown 999 "$tls/redis.key"
chmod 600 "$tls/redis.key"
chmod 644 "$tls/ca.crt" "$tls/redis.crt"
chmod 755 "$work" "$tls"

api_port=$(free_port 18100 18119)
export API_PORT="$api_port"
export REDIS_PASSWORD="check-$RANDOM$RANDOM"
export REDIS_SSL=true
export REDIS_TLS_DIR="$tls"
export REDIS_SSL_CA=/tls/ca.crt
# A first TLS handshake in a cold JVM on a loaded machine can exceed the default 250 ms
# (README, "Redis over TLS"): the check allows a second, as the README advises.
export REDIS_COMMAND_TIMEOUT=1s
api="${PROJECT}_api-service_1"
redis="${PROJECT}_redis_1"
start=$(date +%s)
compose up -d api-service >"$work/compose-up.log" 2>&1 || { tail -n 30 "$work/compose-up.log" >&2; fail "tls: podman-compose up"; }
took=$(await_health "$api_port" "$api")
log "tls: up in $(($(date +%s) - start))s; /health 200 and /actuator/health/cache UP after ${took}s"
create_and_read_twice "$api_port" "TLS check" >/dev/null
log "tls: POST then GET twice: MISS, HIT (the service talks TLS to Redis)"

# Inside the Redis container: TLS with the CA answers; plain text on the same port gets no
# PONG (Redis drops a connection that does not start a TLS handshake).
podman exec "$redis" sh -c 'redis-cli --tls --cacert /tls/ca.crt ping' >"$work/tls-ping" 2>&1
grep -q PONG "$work/tls-ping" || fail "tls: redis-cli --tls got no PONG: $(cat "$work/tls-ping")"
podman exec "$redis" sh -c 'timeout 5 redis-cli ping' >"$work/plain-ping" 2>&1 || true
grep -q PONG "$work/plain-ping" && fail "tls: a plain-text redis-cli got a PONG"
[ "$(podman exec "$redis" sh -c 'redis-cli --tls --cacert /tls/ca.crt config get port' | sed -n 2p)" = 0 ] \
  || fail "tls: Redis has a plain-text port"
log "tls: Redis answers TLS only (plain text: '$(tr '\n' ' ' <"$work/plain-ping" | cut -c1-60)', no plain-text port)"
podman healthcheck run "$redis" >"$work/hc" 2>&1 || fail "tls: the Redis healthcheck fails over TLS: $(cat "$work/hc")"
log "tls: the Redis healthcheck passes over TLS"

compose down -v -t "$GRACE" >"$work/compose-down.log" 2>&1 || { cat "$work/compose-down.log" >&2; fail "tls: podman-compose down -v"; }
podman network rm -f "${PROJECT}_default" >/dev/null 2>&1 || true
expect_project_gone
log "tls: down -v: nothing left"
