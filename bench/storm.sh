#!/usr/bin/env bash
# Cache consistency storm, long run: readers, writers and deletes against one instance for
# SECONDS (default 60), then every cache entry is compared with the database.
# Prints the STORM line: reads, writes, stale keys, stale reads, longest lag. Needs what
# ./mvnw verify needs (a JDK, and redis-server or Docker).
# Usage: bench/storm.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
log="$(mktemp)"
status=0
./mvnw -q -B test -Dtest=CacheStormTests -Dstorm.seconds="$seconds" >"$log" 2>&1 || status=$?
grep -E '^STORM|Tests run|FAIL|expected' "$log" || tail -n 40 "$log"
exit "$status"
