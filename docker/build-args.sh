#!/usr/bin/env bash
# Prints the --build-arg options that fill the image's OCI labels from this checkout:
#   IMAGE_SOURCE    the origin remote as an https URL (org.opencontainers.image.source)
#   IMAGE_VERSION   the pom's version (org.opencontainers.image.version)
#   IMAGE_REVISION  the commit, with -dirty when tracked files differ from it (.revision)
#   IMAGE_CREATED   now, or SOURCE_DATE_EPOCH when set, in RFC 3339 UTC (.created)
# A value it cannot find (no git, no remote) is left out, and the Dockerfile's default,
# "unknown", applies. Values have no spaces, so the output can be used unquoted:
#   docker build $(docker/build-args.sh) -t product-catalog .
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

args=()
if source="$(git remote get-url origin 2>/dev/null)" && [ -n "$source" ]; then
  # git@host:owner/name.git, ssh://git@host/owner/name.git and https://user@host/owner/name.git
  # all become https://host/owner/name (no credentials in a label).
  source="$(echo "$source" | sed -E 's#^git@([^:]+):#https://\1/#; s#^ssh://([^@/]+@)?#https://#; s#^(https?://)[^@/]+@#\1#; s#\.git$##')"
  args+=("--build-arg" "IMAGE_SOURCE=$source")
fi
# The project's own <version>: the first one after the parent's.
version="$(awk '/<\/parent>/ {p = 1; next} p && /<version>/ {gsub(/.*<version>|<\/version>.*/, ""); print; exit}' pom.xml)"
[ -n "$version" ] && args+=("--build-arg" "IMAGE_VERSION=$version")
if revision="$(git rev-parse HEAD 2>/dev/null)"; then
  git diff --quiet HEAD -- 2>/dev/null || revision="$revision-dirty"
  args+=("--build-arg" "IMAGE_REVISION=$revision")
fi
args+=("--build-arg" "IMAGE_CREATED=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%dT%H:%M:%SZ)")
echo "${args[*]}"
