#!/usr/bin/env bash
# Prints the --label options that fill the image's OCI labels from this checkout:
#   org.opencontainers.image.source    the origin remote as an https URL
#   org.opencontainers.image.version   the pom's version
#   org.opencontainers.image.revision  the commit, with -dirty when tracked files differ from it
#   org.opencontainers.image.created   now, or SOURCE_DATE_EPOCH when set, in RFC 3339 UTC
# Labels of the build command, not build arguments of a LABEL instruction: podman's layer
# cache reuses a LABEL instruction whatever the arguments' values, so a rebuild in which no
# copied file changed kept the previous build's revision and time. A value it cannot find
# (no git, no remote) is left out, and the Dockerfile's "unknown" stays. Values have no
# spaces, so the output can be used unquoted:
#   docker build $(docker/build-args.sh) -t product-catalog .
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

args=()
if source="$(git remote get-url origin 2>/dev/null)" && [ -n "$source" ]; then
  # git@host:owner/name.git, ssh://git@host/owner/name.git and https://user@host/owner/name.git
  # all become https://host/owner/name (no credentials in a label).
  source="$(echo "$source" | sed -E 's#^git@([^:]+):#https://\1/#; s#^ssh://([^@/]+@)?#https://#; s#^(https?://)[^@/]+@#\1#; s#\.git$##')"
  args+=("--label" "org.opencontainers.image.source=$source")
fi
# The project's own <version>: the first one after the parent's.
version="$(awk '/<\/parent>/ {p = 1; next} p && /<version>/ {gsub(/.*<version>|<\/version>.*/, ""); print; exit}' pom.xml)"
[ -n "$version" ] && args+=("--label" "org.opencontainers.image.version=$version")
if revision="$(git rev-parse HEAD 2>/dev/null)"; then
  git diff --quiet HEAD -- 2>/dev/null || revision="$revision-dirty"
  args+=("--label" "org.opencontainers.image.revision=$revision")
fi
args+=("--label" "org.opencontainers.image.created=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%dT%H:%M:%SZ)")
echo "${args[*]}"
