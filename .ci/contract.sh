#!/usr/bin/env bash
# The contract gate (issue #22): the OpenAPI document the packaged service serves must pass
# tools we did not write, and the service must keep to it.
#
#   1. Spectral (spectral:oas + the OWASP API Security ruleset, .spectral.yaml): 0 errors,
#      0 warnings (a rule that does not fit is turned off there, with its reason).
#   2. Portman: contract and variation tests generated from the document
#      (src/test/contract/portman-config.json), run by newman: 0 failed assertions.
#   3. Prism as a validating proxy in front of the service, while src/test/contract/
#      walkthrough.mjs sends every operation and every documented status it can trigger
#      from outside: 0 violations in Prism's log, every status as expected. The If-Match,
#      body and id examples are taken from the document as written.
#
# Starts Redis and the jar as .ci/postman.sh does (.ci/lib.sh), with the throttles turned
# low so that 429 comes after a few requests. Installs the tools (npm, pinned exactly) into
# a cache folder outside the repository. Each tool prints its numbers; the exit status is
# 1 if any tool found something, 2 if the set-up failed.
#
# Usage: .ci/contract.sh            (CI_JAR=path checks another build, e.g. an older one)
# Needs: a JDK 17+, redis-server, Node.js 20 with npm, curl.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

TOOLS=(@stoplight/prism-cli@5.16.0 @stoplight/spectral-cli@6.16.3 @stoplight/spectral-owasp-ruleset@2.0.1
  @apideck/portman@1.33.0 newman@6.2.2)
TOOLS_DIR="${CONTRACT_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/product-catalog/contract-tools}"

CI_NAME=contract
# shellcheck source=.ci/lib.sh
. .ci/lib.sh

ci_npm_tools "$TOOLS_DIR" "${TOOLS[@]}"
BIN="$TOOLS_DIR/node_modules/.bin"
# Spectral resolves the OWASP ruleset named in .spectral.yaml from the tools' folder.
export NODE_PATH="$TOOLS_DIR/node_modules"

# Low throttles: a few wrong keys, or a few missing ids in a second, and the next answer is
# 429 (the walk-through sends them last).
ci_start_service API_KEY_FAILURES_PER_MINUTE=3 NOT_FOUND_PER_SECOND=5
base="http://127.0.0.1:$api_port"
document="$TMP/openapi.json"
curl -fsS -m 10 "$base/v3/api-docs" -o "$document" || die "could not read $base/v3/api-docs"

failures=()

# --- 1. Spectral -------------------------------------------------------------------------
log "spectral lint (.spectral.yaml)"
spectral_status=0
"$BIN/spectral" lint --ruleset .spectral.yaml --fail-severity warn --format text "$document" \
  >"$TMP/spectral.txt" 2>&1 || spectral_status=$?
sed "s|$document|openapi.json|" "$TMP/spectral.txt" >&2
echo >&2 # spectral's text output has no final newline
spectral_errors="$(grep -c ' error ' "$TMP/spectral.txt" || true)"
spectral_warnings="$(grep -c ' warning ' "$TMP/spectral.txt" || true)"
log "spectral: $spectral_errors errors, $spectral_warnings warnings (exit $spectral_status)"
if [ "$spectral_status" -ne 0 ] || [ "$spectral_errors" -ne 0 ] || [ "$spectral_warnings" -ne 0 ]; then
  failures+=("spectral")
fi

# --- 2. Portman + newman -----------------------------------------------------------------
# newman talks to the service from another loopback address (127.0.0.2): the per-address
# throttles then count its wrong keys and missing ids apart from the walk-through's.
log "portman: contract and variation tests from the document, run by newman"
# (Run in $TMP: Portman writes a tmp/ folder into its working directory.)
(cd "$TMP" && "$BIN/portman" --local "$document" --baseUrl "http://127.0.0.2:$api_port" \
  --portmanConfigFile "$OLDPWD/src/test/contract/portman-config.json" --output "$TMP/portman.json") \
  >"$TMP/portman.log" 2>&1 || { cat "$TMP/portman.log" >&2; die "portman could not generate the collection"; }
newman_status=0
timeout 300 "$BIN/newman" run "$TMP/portman.json" --env-var "apiKey=$api_key" --timeout-request 10000 \
  --color off --reporters cli,json --reporter-json-export "$TMP/newman.json" >&2 || newman_status=$?
assertions="$(node -e 'const s=require(process.argv[1]).run.stats.assertions; console.log(`${s.total} ${s.failed}`)' \
  "$TMP/newman.json" 2>/dev/null || echo "? ?")"
log "portman: ${assertions% *} assertions, ${assertions#* } failed (newman exit $newman_status)"
if [ "$newman_status" -ne 0 ] || [ "${assertions#* }" != "0" ]; then
  failures+=("portman")
fi

# --- 3. Prism + the walk-through -----------------------------------------------------------
# Two proxies: the strict one validates requests too (the walk-through's valid requests must
# keep to the document), the lenient one only responses (for requests wrong on purpose).
strict_port="$(free_port)"
lenient_port="$(free_port)"
"$BIN/prism" proxy "$document" "$base" --errors --port "$strict_port" >"$TMP/prism-strict.log" 2>&1 &
PIDS+=("$!")
"$BIN/prism" proxy "$document" "$base" --errors --validate-request false --port "$lenient_port" \
  >"$TMP/prism-lenient.log" 2>&1 &
PIDS+=("$!")
for port in "$strict_port" "$lenient_port"; do
  deadline=$((SECONDS + 60))
  until port_open "$port"; do
    [ "$SECONDS" -lt "$deadline" ] || { cat "$TMP"/prism-*.log >&2; die "prism did not listen on $port within 60 s"; }
    sleep 0.2
  done
done
log "walk-through through prism proxy --errors (strict :$strict_port, lenient :$lenient_port)"
walk_status=0
timeout 300 node src/test/contract/walkthrough.mjs "http://127.0.0.1:$strict_port" "http://127.0.0.1:$lenient_port" \
  "$base/v3/api-docs" "$api_key" >&2 || walk_status=$?
requests="$(cat "$TMP"/prism-*.log | grep -c 'Request received' || true)"
# With --errors Prism answers a violation itself (422 for a request, 500 for a response) and
# logs "Request terminated with error"; without it, or for a warning, a "Violation" line.
grep -hE 'Violation|Request terminated with error' "$TMP"/prism-*.log >"$TMP/violations.txt" || true
violations="$(wc -l <"$TMP/violations.txt")"
sed 's/^/  /' "$TMP/violations.txt" >&2
log "prism: $violations violations over $requests requests; walk-through exit $walk_status"
if [ "$violations" -ne 0 ] || [ "$walk_status" -ne 0 ]; then
  failures+=("prism")
fi

if [ "${#failures[@]}" -ne 0 ]; then
  log "FAILED: ${failures[*]} (took $SECONDS s); the service's log ends:"
  tail -n 30 "$service_log" >&2
  exit 1
fi
log "passed: spectral, portman, prism (took $SECONDS s)"
