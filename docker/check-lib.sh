# Sourced by docker/check.sh, check-tls.sh and check-ha.sh: the helpers they share. The
# sourcing script sets `work` (a temporary folder), `PROJECT` (the compose project name)
# and HEALTH_BOUND, and has sourced podman-env.sh.

log() { echo "container-check: $*"; }
fail() {
  echo "container-check: FAILED: $*" >&2
  exit 1
}

compose() {
  # BUILDAH_FORMAT=docker: podman-compose builds without --format, and the OCI format
  # drops HEALTHCHECK.
  BUILDAH_FORMAT=docker timeout 1200 podman-compose -p "$PROJECT" -f docker-compose.yml -f docker/compose.stand-in.yml "$@"
}

# A free TCP port on 127.0.0.1 from the range this project's manual runs use.
free_port() {
  local port
  for port in $(seq "$1" "$2"); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  fail "no free port in $1-$2"
}

# HTTP through curl. Prints the status; headers and body go to files.
http() {
  local method="$1" url="$2"
  shift 2
  curl -sS -o "$work/body" -D "$work/headers" -w '%{http_code}' --max-time 15 -X "$method" "$@" "$url" 2>/dev/null || echo 000
}

header() {
  grep -i "^$1:" "$work/headers" | head -n 1 | cut -d: -f2- | tr -d ' \r'
}

# The cache component of the actuator, on the management port, which no compose file
# publishes: reached at the container's own address (rootful podman routes to it).
cache_up() {
  local container="$1" address
  address=$(podman inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$container" 2>/dev/null | awk '{print $1}')
  [ -n "$address" ] && [ "$(http GET "http://$address:8081/actuator/health/cache")" = 200 ] && grep -q '"UP"' "$work/body"
}

# Whether a read really went through Redis: a list page answered with X-Cache MISS or HIT,
# not BYPASS. The cache health is UP once a Redis command has been answered; a read is what
# proves that requests reach Redis too (a connection can still fail right after: seen here
# once over TLS, "Currently not connected", reconnected 0.3 s later).
cache_used() {
  local port="$1" status
  status=$(http GET "http://127.0.0.1:$port/products?size=1")
  [ "$status" = 200 ] && case "$(header X-Cache)" in MISS | HIT) true ;; *) false ;; esac
}

# Polls /health until 200 and the cache up, at most $HEALTH_BOUND seconds; prints the
# seconds it took. The cache matters: in compose, Redis may come up after the service, and
# a write made before the service reached Redis defers its invalidation (its product is
# then read with X-Cache BYPASS until the invalidation is applied, a moment later).
await_health() {
  local port="$1" container="$2" start now
  start=$(date +%s)
  while true; do
    now=$(date +%s)
    if [ "$(http GET "http://127.0.0.1:$port/health")" = 200 ] && cache_up "$container" && cache_used "$port"; then
      echo $((now - start))
      return 0
    fi
    if [ $((now - start)) -ge "$HEALTH_BOUND" ]; then
      podman logs --tail 40 "$container" >&2 || true
      fail "$container: not /health 200 with /actuator/health/cache UP and a list page read through Redis within ${HEALTH_BOUND}s: $(cat "$work/body" 2>/dev/null)"
    fi
    if [ "$(podman inspect -f '{{.State.Running}}' "$container" 2>/dev/null)" = false ]; then
      podman logs --tail 40 "$container" >&2 || true
      fail "$container exited before /health answered"
    fi
    sleep 1
  done
}

# POST a product, then GET it twice: MISS, then HIT. Prints the new id.
create_and_read_twice() {
  local port="$1" name="$2"
  shift 2
  local status id
  status=$(http POST "http://127.0.0.1:$port/products" -H 'Content-Type: application/json' "$@" \
    --data "{\"name\": \"$name\", \"price\": 9.99, \"stock_quantity\": 3}")
  [ "$status" = 201 ] || fail "POST /products answered $status: $(cat "$work/body")"
  id=$(sed -n 's/.*"id":\([0-9]*\).*/\1/p' "$work/body")
  [ -n "$id" ] || fail "POST /products returned no id: $(cat "$work/body")"
  status=$(http GET "http://127.0.0.1:$port/products/$id")
  [ "$status" = 200 ] && [ "$(header X-Cache)" = MISS ] \
    || fail "first GET /products/$id: status $status, X-Cache '$(header X-Cache)' (expected 200 MISS)"
  status=$(http GET "http://127.0.0.1:$port/products/$id")
  [ "$status" = 200 ] && [ "$(header X-Cache)" = HIT ] \
    || fail "second GET /products/$id: status $status, X-Cache '$(header X-Cache)' (expected 200 HIT; is Redis reachable?)"
  echo "$id"
}

# Nothing of the compose project left: containers, volumes (also anonymous ones, which
# podman-compose 1.0.3's `down -v` does not remove) and, after the caller removed it, the
# network.
expect_project_gone() {
  local left
  left=$(podman ps -a --format '{{.Names}}' | grep "^$PROJECT" || true)
  [ -z "$left" ] || fail "compose: containers left after down -v: $left"
  left=$(podman volume ls -q | grep "^${PROJECT}_" || true)
  [ -z "$left" ] || fail "compose: volumes left after down -v: $left"
  podman network exists "${PROJECT}_default" && fail "compose: network ${PROJECT}_default left"
  return 0
}
