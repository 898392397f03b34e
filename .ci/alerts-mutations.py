"""Checks that the alert tests can fail: for each alert of ops/prometheus/alerts.yml,
runs `promtool test rules` twice on a copy whose expression is broken, and requires

  never  (the expression matches nothing): every evaluation that expects the alert fails;
  always (one alert per scraped instance, whatever its metrics say): every evaluation
         that expects no alert, later than the alert's `for` allows, fails.

A test that still passes with a broken expression is a test of nothing. Usage:
  python3 .ci/alerts-mutations.py RULES TESTS     (called by .ci/alerts.sh)
"""

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

NEVER = "vector(1) < 0"
ALWAYS = "group by (job, instance) (up)"


def seconds(duration):
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)", str(duration)))


def evaluations(tests, alert):
    """(group name, eval time in s, whether an alert is expected) for each evaluation of alert."""
    for group in tests["tests"]:
        for case in group.get("alert_rule_test", []):
            if case["alertname"] == alert:
                yield group["name"], seconds(case["eval_time"]), bool(case.get("exp_alerts"))


def failures(rules, tests_path, alert, expr):
    """The (group name, eval time, alert) promtool reports as failed with alert's expr replaced."""
    mutated = yaml.safe_load(rules.read_text())
    for group in mutated["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == alert:
                rule["expr"] = expr
    with tempfile.TemporaryDirectory() as work:
        # The test file names its rules file relatively.
        shutil.copy(tests_path, Path(work) / tests_path.name)
        (Path(work) / rules.name).write_text(yaml.safe_dump(mutated, sort_keys=False))
        run = subprocess.run(["promtool", "test", "rules", tests_path.name], cwd=work,
                             capture_output=True, text=True, timeout=120)
    output = run.stdout + run.stderr
    found = {(name.strip(), seconds(time), name_alert)
             for name, name_alert, time in re.findall(r"name: (.*?),\s*\n\s*alertname: (\w+), time: ([^,\s]+),", output)}
    return run.returncode, found, output


def main():
    rules, tests_path = Path(sys.argv[1]), Path(sys.argv[2])
    tests = yaml.safe_load(tests_path.read_text())
    interval = seconds(tests.get("evaluation_interval", "1m"))
    problems = []
    alerts = [rule for group in yaml.safe_load(rules.read_text())["groups"] for rule in group["rules"] if "alert" in rule]
    for rule in alerts:
        alert = rule["alert"]
        cases = list(evaluations(tests, alert))
        firing = {(name, time, alert) for name, time, expected in cases if expected}
        quiet = {(name, time, alert) for name, time, expected in cases
                 if not expected and time > seconds(rule.get("for", "0s")) + interval}
        if not firing or not quiet:
            problems.append(f"{alert}: needs an evaluation that fires it and one that must not (has {len(firing)} and {len(quiet)})")
            continue
        for mutation, expr, must_fail in (("never", NEVER, firing), ("always", ALWAYS, quiet)):
            code, failed, output = failures(rules, tests_path, alert, expr)
            missed = must_fail - failed
            if code == 0 or missed:
                problems.append(f"{alert}: with the expression broken to '{mutation}', still passing: "
                                + ", ".join(f"'{n}' at {t:g}s" for n, t, _ in sorted(missed)) + f"\n{output}")
        print(f"alerts: {alert}: {len(firing)} firing and {len(quiet)} quiet evaluations fail when its expression is broken")
    for problem in problems:
        print(f"alerts: FAILED: {problem}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
