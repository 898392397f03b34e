#!/usr/bin/env bash
# What the image says it contains, checked in a built image (called by docker/check.sh):
#   - the OCI labels org.opencontainers.image.{source,version,revision,created} carry the
#     values docker/build-args.sh gave the build ("unknown" for one it left out),
#     the version is the pom's, the revision git's HEAD, `created` a recent RFC 3339 time;
#   - /app/sbom/application.cdx.json is a CycloneDX SBOM of product-catalog at that version
#     that lists every jar of /app/lib, and no test dependency;
#   - /app/sbom/os-packages.txt is the runtime image's own package list: the same as
#     dpkg-query run in the image now.
# Usage: docker/check-contents.sh IMAGE BUILD_ARGS_FILE (the build-args.sh output used).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."
image="$1"
build_args="$(cat "$2")"
# shellcheck source=podman-env.sh
. "$here/podman-env.sh"
# shellcheck source=check-lib.sh
. "$here/check-lib.sh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ -z "${CONTAINERS_CONF:-}" ]; then
  podman_env_setup "$work"
fi

in_image() {
  podman run --rm --network none --entrypoint "$1" "$image" "${@:2}" 2>"$work/podman.err" \
    || { cat "$work/podman.err" >&2; fail "running $* in the image"; }
}

# --- OCI labels ------------------------------------------------------------------------
passed() { # the value build-args.sh passed for label $1, or the Dockerfile's default
  local value
  value="$(tr ' ' '\n' <<<"$build_args" | sed -n "s/^org\.opencontainers\.image\.$1=//p")"
  echo "${value:-unknown}"
}
label() {
  podman image inspect -f "{{ index .Config.Labels \"org.opencontainers.image.$1\" }}" "$image"
}
for name in source version revision created; do
  [ "$(label "$name")" = "$(passed "$name")" ] \
    || fail "label org.opencontainers.image.$name is '$(label "$name")', not '$(passed "$name")'"
done
pom_version="$(awk '/<\/parent>/ {p = 1; next} p && /<version>/ {gsub(/.*<version>|<\/version>.*/, ""); print; exit}' pom.xml)"
[ "$(label version)" = "$pom_version" ] || fail "label version '$(label version)' is not the pom's $pom_version"
if head="$(git rev-parse HEAD 2>/dev/null)"; then
  case "$(label revision)" in
    "$head" | "$head-dirty") ;;
    *) fail "label revision '$(label revision)' is not HEAD $head" ;;
  esac
fi
created="$(label created)"
[[ "$created" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] || fail "label created '$created' is not an RFC 3339 UTC time"
age=$(($(date +%s) - $(date -d "$created" +%s)))
[ "$age" -ge -60 ] && [ "$age" -lt 7200 ] || fail "label created '$created' is not the time of this build"
log "image: OCI labels source=$(label source) version=$(label version) revision=$(label revision) created=$created"

# --- the jar's SBOM --------------------------------------------------------------------
in_image cat /app/sbom/application.cdx.json >"$work/sbom.json"
in_image ls /app/lib >"$work/lib"
python3 - "$work/sbom.json" "$work/lib" "$pom_version" <<'PY' || fail "the SBOM at /app/sbom/application.cdx.json does not describe the jar"
import json, sys
bom = json.load(open(sys.argv[1]))
jars = [line.strip() for line in open(sys.argv[2]) if line.strip().endswith(".jar")]
problems = []
if bom.get("bomFormat") != "CycloneDX":
    problems.append(f"bomFormat {bom.get('bomFormat')}")
main = bom.get("metadata", {}).get("component", {})
if (main.get("name"), main.get("version")) != ("product-catalog", sys.argv[3]):
    problems.append(f"describes {main.get('name')} {main.get('version')}, not product-catalog {sys.argv[3]}")
listed = {f"{c['name']}-{c['version']}.jar" for c in bom.get("components", [])}
# The launcher's own tools jar comes from the Boot plugin, not from a dependency.
unlisted = [jar for jar in jars if jar not in listed and not jar.startswith("spring-boot-jarmode-tools-")]
if not jars or unlisted:
    problems.append(f"jars of /app/lib not in it ({len(jars)} jars): {unlisted[:10]}")
tests = sorted(c["name"] for c in bom.get("components", []) if c["name"].split("-")[0] in ("junit", "testcontainers", "archunit", "jqwik", "assertj", "mockito"))
if tests:
    problems.append(f"test dependencies listed: {tests[:5]}")
for problem in problems:
    print(f"container-check: SBOM: {problem}", file=sys.stderr)
print(f"{len(bom.get('components', []))} components, {len(jars)} jars in /app/lib", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
log "image: /app/sbom/application.cdx.json is a CycloneDX SBOM of product-catalog $pom_version listing every jar of /app/lib"

# --- the runtime image's packages ------------------------------------------------------
in_image cat /app/sbom/os-packages.txt >"$work/os-packages.txt"
in_image dpkg-query -W -f '${Package}\t${Version}\t${Architecture}\n' | LC_ALL=C sort >"$work/installed.txt"
[ -s "$work/installed.txt" ] || fail "dpkg-query lists no package in the image"
diff -u "$work/installed.txt" "$work/os-packages.txt" >&2 \
  || fail "/app/sbom/os-packages.txt is not the runtime image's package list (diff above: - installed, + listed)"
log "image: /app/sbom/os-packages.txt lists the runtime image's $(wc -l <"$work/installed.txt") packages"
