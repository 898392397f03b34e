#!/usr/bin/env bash
# The `ha` profile of docker-compose.yml: PostgreSQL, two API instances, a Redis master with
# a replica and three sentinels. podman-compose 1.0.3 knows no profiles (`--profile` is
# an unknown option there), so this starts them the way that works on both tools: by
# naming the API services, whose dependencies come with them.
# Checks: both instances answer with the cache up; a product written through api-1 is read
# through api-2 (MISS, then HIT, the same bytes) and is in PostgreSQL; then the Redis master
# container is stopped while both instances are read in a loop: no answer other than 200,
# the sentinels promote the replica, and both instances serve HITs again within
# FAILOVER_BOUND; a write after the fail-over is seen by the other instance. `down -v`
# leaves nothing. Called by docker/check.sh (which built the compose image); runs alone
# too, as root, and then builds the image first.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."
# shellcheck source=podman-env.sh
. "$here/podman-env.sh"
# shellcheck source=check-lib.sh
. "$here/check-lib.sh"

PROJECT=catalog-check-ha
HEALTH_BOUND=360     # two JVMs start at once (198 s and >240 s seen here at load 27-41 on 2 cores)
FAILOVER_BOUND=30    # seconds from stopping the master to HITs on both instances
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
  [ -n "${reader:-}" ] && kill "$reader" 2>/dev/null
  if [ "$status" -ne 0 ]; then
    # What the instances said, for the failure above: it is gone after `down -v`.
    for container in ${api_1:-} ${api_2:-}; do
      echo "--- last log lines of $container" >&2
      podman logs --tail 40 "$container" 2>&1 | cut -c1-400 >&2
    done
  fi
  compose down -v -t "$GRACE" >"$work/compose-down.log" 2>&1
  podman network rm -f "${PROJECT}_default" >/dev/null 2>&1
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

port_1=$(free_port 18120 18139)
port_2=$(free_port $((port_1 + 1)) 18139)
export HA_API_1_PORT="$port_1" HA_API_2_PORT="$port_2"
export REDIS_PASSWORD="check-$RANDOM$RANDOM"
export POSTGRES_PASSWORD="check-pg-$RANDOM$RANDOM"
api_1="${PROJECT}_api-1_1"
api_2="${PROJECT}_api-2_1"
master="${PROJECT}_redis-master_1"
sentinel="${PROJECT}_sentinel-1_1"
start=$(date +%s)
compose up -d api-1 api-2 >"$work/compose-up.log" 2>&1 || { tail -n 30 "$work/compose-up.log" >&2; fail "ha: podman-compose up"; }
running=$(podman ps --format '{{.Names}}' | grep "^$PROJECT" | sort | tr '\n' ' ')
[ "$(echo "$running" | wc -w)" = 8 ] || fail "ha: expected 8 containers, running: $running"
took=$(await_health "$port_1" "$api_1")
await_health "$port_2" "$api_2" >/dev/null
log "ha: 8 containers up in $(($(date +%s) - start))s; both instances: /health 200, cache UP (api-1 after ${took}s)"

sentinel_cli() {
  podman exec "$sentinel" redis-cli -p 26379 "$@"
}
# The sentinels know the replica and each other before the master is taken away.
deadline=$(($(date +%s) + 60))
until sentinel_cli sentinel master catalog >"$work/sentinel" 2>&1 \
  && [ "$(sed -n '/^num-slaves$/{n;p}' "$work/sentinel")" = 1 ] \
  && [ "$(sed -n '/^num-other-sentinels$/{n;p}' "$work/sentinel")" = 2 ]; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "ha: the sentinels do not see 1 replica and 2 other sentinels: $(tr '\n' ' ' <"$work/sentinel")"
  sleep 1
done
log "ha: sentinel-1 watches master $(sentinel_cli sentinel get-master-addr-by-name catalog | tr '\n' ':' | sed 's/:$//') with 1 replica and 2 other sentinels"

status=$(http POST "http://127.0.0.1:$port_1/products" -H 'Content-Type: application/json' \
  --data '{"name": "HA check", "price": 9.99, "stock_quantity": 3}')
[ "$status" = 201 ] || fail "ha: POST through api-1 answered $status: $(cat "$work/body")"
id=$(sed -n 's/.*"id":\([0-9]*\).*/\1/p' "$work/body")
# expected: an X-Cache value, or several as 'MISS|BYPASS'.
read_as() {
  local port="$1" expected="$2" label="$3" status
  status=$(http GET "http://127.0.0.1:$port/products/$id")
  [ "$status" = 200 ] && [[ "$(header X-Cache)" =~ ^($expected)$ ]] \
    || fail "ha: GET /products/$id through $label: status $status, X-Cache '$(header X-Cache)' (expected 200 $expected)"
}
read_as "$port_2" MISS api-2
cp "$work/body" "$work/first"
read_as "$port_2" HIT api-2
cmp -s "$work/first" "$work/body" || fail "ha: the HIT differs from the MISS"
read_as "$port_1" HIT api-1
cmp -s "$work/first" "$work/body" || fail "ha: api-1 and api-2 answer different bytes"
stored=$(podman exec "${PROJECT}_postgres_1" psql -U catalog -d catalog -tAc "select name from products where id = $id")
[ "$stored" = "HA check" ] || fail "ha: product $id is not in PostgreSQL (got '$stored')"
log "ha: written through api-1, read through api-2: MISS, HIT, then HIT on api-1, the same bytes; the row is in PostgreSQL"

# Both instances read in a loop while the master is stopped: time, instance, status, X-Cache.
(
  while [ ! -f "$work/stop-reading" ]; do
    for port in "$port_1" "$port_2"; do
      line=$(curl -s -o /dev/null -D - -w 'STATUS %{http_code} %{time_total}\n' --max-time 5 \
        "http://127.0.0.1:$port/products/$id" 2>/dev/null || echo "STATUS 000 5")
      cache=$(echo "$line" | grep -i '^x-cache:' | cut -d: -f2 | tr -d ' \r')
      echo "$(date +%s%3N) $port $(echo "$line" | grep '^STATUS' | cut -d' ' -f2-) ${cache:-none}"
    done
    sleep 0.1
  done
) >"$work/reads" &
reader=$!
sleep 2
# Counted from the moment the master is gone (podman stop returned), so that a HIT still
# served by the old master does not count as the cache's return.
podman stop -t 5 "$master" >/dev/null 2>"$work/podman.err" || { cat "$work/podman.err" >&2; fail "ha: podman stop $master"; }
stopped_at=$(date +%s%3N)
back() {
  awk -v t="$stopped_at" -v p="$1" '$1 > t && $2 == p && $5 == "HIT" {print $1 - t; exit}' "$work/reads"
}
while true; do
  b1=$(back "$port_1")
  b2=$(back "$port_2")
  [ -n "$b1" ] && [ -n "$b2" ] && break
  [ $(($(date +%s%3N) - stopped_at)) -lt $((FAILOVER_BOUND * 1000)) ] \
    || fail "ha: no HIT on both instances within ${FAILOVER_BOUND}s of stopping the master (api-1 '${b1}', api-2 '${b2}'); sentinel: $(sentinel_cli sentinel get-master-addr-by-name catalog | tr '\n' ' ')"
  sleep 0.5
done
sleep 2
touch "$work/stop-reading"
wait "$reader" || true
reader=""
new_master=$(sentinel_cli sentinel get-master-addr-by-name catalog | head -n 1)
[ "$new_master" = redis-replica ] || fail "ha: the sentinels name '$new_master' as master, not redis-replica"
bad=$(awk '$3 != 200' "$work/reads" | head -n 5)
[ -z "$bad" ] || fail "ha: answers other than 200 during the fail-over: $bad"
total=$(wc -l <"$work/reads")
bypass=$(awk -v t="$stopped_at" '$1 > t && $5 != "HIT"' "$work/reads" | wc -l)
slowest=$(awk 'BEGIN {m = 0} $4 > m {m = $4} END {print m}' "$work/reads")
log "ha: master stopped: $total reads, all 200 ($bypass served without the cache), slowest ${slowest}s; redis-replica promoted; HITs again ${b1} ms (api-1) and ${b2} ms (api-2) after the master was gone"

status=$(http PUT "http://127.0.0.1:$port_1/products/$id" -H 'Content-Type: application/json' --data '{"name": "HA check 2"}')
[ "$status" = 200 ] || fail "ha: PUT through api-1 after the fail-over answered $status"
# The first read after the write: a HIT of the product the update left in Redis; a MISS
# when that value could not be written at once and the write's marker was applied later
# (the first write after a fail-over may still go to the stopped master: seen once in CI
# on 2026-12-06), or a BYPASS when api-2 skipped Redis for that moment. Always the new
# name, and then a HIT of it within a few seconds.
read_as "$port_2" 'HIT|MISS|BYPASS' api-2
first=$(header X-Cache)
grep -q '"name":"HA check 2"' "$work/body" || fail "ha: api-2 reads the old product after a write through api-1: $(cat "$work/body")"
deadline=$(($(date +%s) + 10))
until status=$(http GET "http://127.0.0.1:$port_2/products/$id") && [ "$status" = 200 ] && [ "$(header X-Cache)" = HIT ]; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "ha: no HIT through api-2 within 10 s of the write (last: status $status, X-Cache '$(header X-Cache)')"
  sleep 0.2
done
grep -q '"name":"HA check 2"' "$work/body" || fail "ha: api-2's HIT after the write is the old product: $(cat "$work/body")"
log "ha: after the fail-over, a PUT through api-1 is read through api-2 ($first, then HIT, the new name)"

compose down -v -t "$GRACE" >"$work/compose-down.log" 2>&1 || { cat "$work/compose-down.log" >&2; fail "ha: podman-compose down -v"; }
podman network rm -f "${PROJECT}_default" >/dev/null 2>&1 || true
expect_project_gone
log "ha: down -v: nothing left"
