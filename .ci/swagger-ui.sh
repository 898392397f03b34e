#!/usr/bin/env bash
# Opens Swagger UI in headless Chromium against the packaged service (.ci/swagger-ui.mjs):
# the operations it shows must be those of /v3/api-docs, the browser must report no
# Content-Security-Policy violation, and "Try it out" must get a 200 from a GET.
#
# Starts Redis and the jar on free ports like .ci/postman.sh (.ci/lib.sh), installs
# playwright-core (npm, pinned; it drives the system's Chromium and never downloads a
# browser) into a cache folder outside the repository when it is missing, and stops
# everything it started on exit.
#
# Usage: .ci/swagger-ui.sh [SCREENSHOT.png]     (or SWAGGER_UI_SCREENSHOT=...; a full-page
#        PNG of the operations, 1280 px wide; e.g. docs/swagger-ui.png)
# Exit status: 0 when every check passed, 1 when one failed, 2 if the set-up failed.
# Needs: a JDK 17+, redis-server, Node.js with npm, curl, Chromium (CHROMIUM, default
# /usr/bin/chromium).
set -euo pipefail

screenshot="${1:-${SWAGGER_UI_SCREENSHOT:-}}"
# Made absolute before the cd below.
case "$screenshot" in
  '' | /*) ;;
  *) screenshot="$PWD/$screenshot" ;;
esac

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PLAYWRIGHT_CORE_VERSION="1.65.2"
PLAYWRIGHT_CORE_DIR="${PLAYWRIGHT_CORE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/product-catalog/playwright-core-$PLAYWRIGHT_CORE_VERSION}"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

CI_NAME=swagger-ui
# shellcheck source=.ci/lib.sh
. .ci/lib.sh

[ -x "$CHROMIUM" ] || die "no Chromium at $CHROMIUM (apt-get install chromium, or set CHROMIUM)"

# playwright-core never downloads a browser itself; the variable is for its relatives.
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 ci_npm_tools "$PLAYWRIGHT_CORE_DIR" "playwright-core@$PLAYWRIGHT_CORE_VERSION"
ci_start_service

status=0
browser_start=$SECONDS
PLAYWRIGHT_CORE_DIR="$PLAYWRIGHT_CORE_DIR" CHROMIUM="$CHROMIUM" \
  timeout 180 node .ci/swagger-ui.mjs "http://127.0.0.1:$api_port" ${screenshot:+"$screenshot"} || status=$?
log "the browser check took $((SECONDS - browser_start)) s"
if [ "$status" -ne 0 ]; then
  log "the browser check failed (exit $status); the service's log:"
  tail -n 40 "$service_log" >&2
fi
exit "$status"
