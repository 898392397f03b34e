#!/usr/bin/env bash
# The alert rules (ops/prometheus): promtool checks the rules and the scrape config, runs
# their unit tests (alerts.test.yml), and checks that each test fails when its alert's
# expression is broken (.ci/alerts-mutations.py). Then the packaged jar runs (.ci/lib.sh)
# and its /actuator/prometheus must export every metric the rules name, so a renamed
# metric cannot leave an alert watching nothing.
# Needs promtool (Debian's `prometheus` package; .ci/run installs it) and python3-yaml.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CI_NAME=alerts
# shellcheck source=lib.sh
. .ci/lib.sh

command -v promtool >/dev/null 2>&1 || die "promtool is missing (apt-get install prometheus)"
python3 -c 'import yaml' 2>/dev/null || die "python3 with yaml is missing (apt-get install python3-yaml)"

promtool check rules ops/prometheus/alerts.yml >&2 || die "promtool check rules failed"
promtool check config ops/prometheus/prometheus.yml >&2 || die "promtool check config failed"
promtool test rules ops/prometheus/alerts.test.yml >&2 || die "promtool test rules failed"
python3 .ci/alerts-mutations.py ops/prometheus/alerts.yml ops/prometheus/alerts.test.yml >&2 \
  || die "an alert test passes with its expression broken"

# The metric names the rules use (series names, before any '{' or '['), from the
# expressions only.
python3 - ops/prometheus/alerts.yml >"$TMP/used" <<'PY'
import re, sys, yaml
names = set()
for group in yaml.safe_load(open(sys.argv[1]))["groups"]:
    for rule in group["rules"]:
        expr = rule["expr"]
        names.update(re.findall(r"\b((?:catalog|hikaricp|http_server_requests)_[a-z0-9_]+)\b", expr))
        for alternatives in re.findall(r'__name__=~"([^"]+)"', expr):
            names.update(alternatives.split("|"))
print("\n".join(sorted(names)))
PY

management_port="$(free_port)"
ci_start_service MANAGEMENT_PORT="$management_port"
# A product read and a write, so the request metrics have series.
curl -fsS -m 5 -o /dev/null "http://127.0.0.1:$api_port/products?size=1" || die "GET /products failed"
curl -fsS -m 10 "http://127.0.0.1:$management_port/actuator/prometheus" >"$TMP/scrape" \
  || die "no /actuator/prometheus on the management port"
missing=""
while read -r name; do
  grep -q "^$name[{ ]" "$TMP/scrape" || missing="$missing $name"
done <"$TMP/used"
[ -z "$missing" ] || die "alerts.yml names metrics the service does not export:$missing"
log "promtool check and test passed; every test fails with its alert broken; the service exports the $(wc -l <"$TMP/used") metrics the rules use"
