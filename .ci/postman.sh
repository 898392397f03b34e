#!/usr/bin/env bash
# Runs the Postman collection (src/test/postman/) with newman against the packaged service,
# so that the collection can never drift from the service.
#
# Starts, on free ports of 127.0.0.1 (.ci/lib.sh): a redis-server of its own (no persistence)
# and the jar (target/product-catalog-*.jar, built with ./mvnw -DskipTests package when
# missing or older than src/) on a new SQLite file in a temp dir, with an API key, so that
# the collection's apiKey is exercised. Installs newman (npm, pinned) into a cache folder
# outside the repository when it is missing. Stops everything it started on exit (by pid),
# and bounds every wait.
#
# Usage: .ci/postman.sh            (exit status: newman's, or 2 if the set-up failed)
# Needs: a JDK 17+, redis-server, Node.js with npm, curl.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

NEWMAN_VERSION="6.2.2"
NEWMAN_DIR="${NEWMAN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/product-catalog/newman-$NEWMAN_VERSION}"

CI_NAME=postman
# shellcheck source=.ci/lib.sh
. .ci/lib.sh

NEWMAN="$NEWMAN_DIR/node_modules/.bin/newman"
[ -x "$NEWMAN" ] || ci_npm_tools "$NEWMAN_DIR" "newman@$NEWMAN_VERSION"
ci_start_service

# --- the collection -------------------------------------------------------------------
status=0
timeout 300 "$NEWMAN" run src/test/postman/product-catalog.postman_collection.json \
  --environment src/test/postman/product-catalog.postman_environment.json \
  --env-var "baseUrl=http://127.0.0.1:$api_port" --env-var "apiKey=$api_key" \
  --timeout-request 10000 --bail --color off || status=$?
if [ "$status" -ne 0 ]; then
  log "newman failed (exit $status); the service's log:"
  tail -n 60 "$service_log" >&2
fi
exit "$status"
