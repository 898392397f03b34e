#!/usr/bin/env bash
# Crash safety: WRITERS (8) concurrent curl loops POST products, each recording every id it got
# a 201 for together with exactly what it sent; after WRITE_S (4) s plus a random 0-1 s the
# java process is killed with SIGKILL mid-writes, restarted on the same SQLite file, and every
# product acknowledged so far (all rounds) is checked twice:
#   - through the API: GET /products/{id} must answer 200 with the same name, price and
#     stock_quantity (the private Redis is kept across the crash, as a real one would be);
#   - in the file: sqlite3 must find the row with the same name, price_cents, stock_quantity,
#     and PRAGMA integrity_check must say ok.
# ROUNDS (3) crashes in a row on the same file.
# Exit status: 1 if an acknowledged product is missing or different, the file fails its
# integrity check, or a writer got an answer other than 201 while the service was up.
#
# Usage: bench/crash.sh [ROUNDS]
# Env:   WRITERS=8 WRITE_S=4 BENCH_KEEP=0 BENCH_JAVA_OPTS=
source "$(dirname "$0")/lib.sh"

ROUNDS="${1:-${ROUNDS:-3}}"
WRITERS="${WRITERS:-8}"
WRITE_S="${WRITE_S:-4}"

bench_init
bench_need_service
bench_need sqlite3 sqlite3
bench_need jq jq
bench_need java openjdk-17-jdk-headless

bench_single_service

# writer ROUND K: POSTs until $T/stop exists (hard cap WRITE_S + 20 s). Acknowledged products go
# to $T/acked-ROUND-K.tsv as "id name price_cents stock_quantity" (tab-separated), every other
# answer to $T/other-ROUND-K.txt as "epoch_ms http_code curl_exit" (curl 7 = refused; 52/56 = the
# connection died with the request sent: it was in flight when the service was killed).
writer() {
	local round="$1" k="$2" i=0 code rc body name cents qty id
	local deadline=$((SECONDS + WRITE_S + 20))
	local resp="$T/resp-$round-$k.json"
	while [ ! -e "$T/stop" ] && [ "$SECONDS" -lt "$deadline" ]; do
		i=$((i + 1))
		name="crash-r$round-w$k-$i-$RANDOM"
		cents=$(( (RANDOM * 32768 + RANDOM) % 10000000 ))
		qty=$(( RANDOM % 5000 ))
		body="$(printf '{"name":"%s","price":%d.%02d,"stock_quantity":%d}' "$name" $((cents / 100)) $((cents % 100)) "$qty")"
		if code="$(curl -s -m 5 -o "$resp" -w '%{http_code}' -H 'Content-Type: application/json' \
			--data "$body" "$BASE/products" 2>/dev/null)"; then rc=0; else rc=$?; fi
		if [ "$code" = 201 ]; then
			id="$(sed -n 's/^{"id":\([0-9][0-9]*\),.*/\1/p' "$resp")"
			printf '%s\t%s\t%s\t%s\n' "${id:-?}" "$name" "$cents" "$qty" >>"$T/acked-$round-$k.tsv"
		else
			printf '%s %s %s\n' "$(now_ms)" "${code:-000}" "$rc" >>"$T/other-$round-$k.txt"
			# the service is gone (killed): do not spin
			[ "$code" = 000 ] && sleep 0.05
		fi
	done
}

# verify: checks every acknowledged product (all rounds so far); prints counts, sets
# V_ACKED V_OK_API V_BAD_API V_OK_DB V_BAD_DB V_INTEGRITY
verify() {
	cat "$T"/acked-*.tsv 2>/dev/null | sort -n >"$T/expected.tsv" || true
	V_ACKED="$(wc -l <"$T/expected.tsv")"
	# the file itself
	V_INTEGRITY="$(sqlite3 -readonly "$DB" '.timeout 5000' 'PRAGMA integrity_check;' 2>&1 | tr '\n' ' ' | sed 's/ $//')"
	sqlite3 -readonly -separator $'\t' "$DB" '.timeout 5000' \
		'SELECT id, name, price_cents, stock_quantity FROM products ORDER BY id;' >"$T/db.tsv"
	awk -F'\t' 'NR == FNR { row[$1] = $2 "\t" $3 "\t" $4; next }
		{ want = $2 "\t" $3 "\t" $4
		  if (!($1 in row)) { print "MISSING\t" $0 }
		  else if (row[$1] != want) { print "DIFFERENT\t" $0 "\tstored:\t" row[$1] } }' \
		"$T/db.tsv" "$T/expected.tsv" >"$T/bad-db.txt"
	V_BAD_DB="$(wc -l <"$T/bad-db.txt")"
	V_OK_DB=$((V_ACKED - V_BAD_DB))
	V_STORED="$(wc -l <"$T/db.tsv")"
	# the API, over one keep-alive connection
	local cfg="$T/verify.curl" id
	: >"$cfg"
	while IFS=$'\t' read -r id _; do
		if [ -s "$cfg" ]; then printf 'next\n' >>"$cfg"; fi
		printf 'url = "%s/products/%s"\nwrite-out = "\\t%%{http_code}\\n"\nmax-time = 10\n' "$BASE" "$id" >>"$cfg"
	done <"$T/expected.tsv"
	: >"$T/api.tsv"
	if [ -s "$cfg" ]; then
		curl -s -K "$cfg" >"$T/api.out" || true
		# "json<TAB>code" per line -> "id name cents qty code"
		awk -F'\t' '$2 == 200 { print $1 }' "$T/api.out" \
			| jq -r '[.id, .name, ((.price * 100) | round), .stock_quantity] | @tsv' >"$T/api.tsv"
	fi
	awk -F'\t' 'NR == FNR { row[$1] = $2 "\t" $3 "\t" $4; next }
		{ want = $2 "\t" $3 "\t" $4
		  if (!($1 in row)) { print "MISSING\t" $0 }
		  else if (row[$1] != want) { print "DIFFERENT\t" $0 "\tserved:\t" row[$1] } }' \
		"$T/api.tsv" "$T/expected.tsv" >"$T/bad-api.txt"
	V_BAD_API="$(wc -l <"$T/bad-api.txt")"
	V_OK_API=$((V_ACKED - V_BAD_API))
}

bench_start_redis "$REDIS_PORT"
bench_start_app "$JAR" "$API_PORT" "$REDIS_PORT" "$DB" "$T/app-0.log"

status=0
total_unexpected=0
printf '%s\n' "round acked_this_round cut_off_by_kill acked_total verified_api verified_db missing_or_different stored_rows unacked_stored_total unexpected_answers integrity" >"$T/rounds.txt"
for round in $(seq 1 "$ROUNDS"); do
	rm -f "$T/stop"
	log "round $round: $WRITERS writers for ~${WRITE_S} s, then kill -9 java (pid $APP_PID)"
	wpids=()
	for k in $(seq 1 "$WRITERS"); do
		writer "$round" "$k" &
		wpids+=("$!")
		bench_track "$!"
	done
	sleep "$WRITE_S.$((RANDOM % 10))$((RANDOM % 10))"
	kill_ms="$(now_ms)"
	bench_kill9 "$APP_PID"
	touch "$T/stop"
	for p in "${wpids[@]}"; do wait "$p" 2>/dev/null || true; bench_untrack "$p"; done
	acked_round="$(cat "$T"/acked-"$round"-*.tsv 2>/dev/null | wc -l)"
	# answers other than 201 while the service was up (000 = no answer, expected only after the kill)
	unexpected="$(cat "$T"/other-"$round"-*.txt 2>/dev/null | awk -v k="$kill_ms" '$2 != "000" || $1 < k - 50' | wc -l)"
	total_unexpected=$((total_unexpected + unexpected))
	cut_off="$(cat "$T"/other-"$round"-*.txt 2>/dev/null | awk '$2 == "000" && ($3 == 52 || $3 == 56 || $3 == 28)' | wc -l)"
	log "round $round: killed at $kill_ms, $acked_round products acknowledged this round, $cut_off requests in flight cut off by the kill, $unexpected unexpected answers"
	[ "$acked_round" -gt 0 ] || { log "round $round: no write was acknowledged"; status=1; }

	bench_start_app "$JAR" "$API_PORT" "$REDIS_PORT" "$DB" "$T/app-$round.log"
	verify
	bad=$(( V_BAD_API > V_BAD_DB ? V_BAD_API : V_BAD_DB ))
	unacked=$(( V_STORED - (V_ACKED - V_BAD_DB) ))
	echo "$round $acked_round $cut_off $V_ACKED $V_OK_API $V_OK_DB $bad $V_STORED $unacked $unexpected $V_INTEGRITY" >>"$T/rounds.txt"
	log "round $round: acknowledged so far $V_ACKED, verified via API $V_OK_API, in the file $V_OK_DB, integrity: $V_INTEGRITY"
	if [ "$V_BAD_API" -gt 0 ] || [ "$V_BAD_DB" -gt 0 ]; then
		status=1
		head -n 5 "$T/bad-db.txt" "$T/bad-api.txt" >&2
	fi
	[ "$V_INTEGRITY" = ok ] || status=1
done

echo
echo "CRASH SAFETY  $(date -u +%Y-%m-%dT%H:%MZ)  $ROUNDS rounds of kill -9 after ~${WRITE_S} s of $WRITERS concurrent writers  jar=$(basename "$JAR")"
column -t "$T/rounds.txt" 2>/dev/null || cat "$T/rounds.txt"
last="$(tail -n 1 "$T/rounds.txt")"
read -r _ _ _ acked ok_api ok_db bad _ _ _ _ <<<"$last"
echo "(cut_off_by_kill = requests sent but never answered because of the kill;"
echo " unacked_stored_total = rows, all rounds so far, from requests in flight at a kill: committed but never answered, which is allowed)"
bench_load_note
echo "CRASH rounds=$ROUNDS acknowledged=$acked verified_api=$ok_api verified_db=$ok_db missing_or_different=$bad unexpected_answers=$total_unexpected"
[ "$total_unexpected" -eq 0 ] || { echo "FAIL: $total_unexpected answers other than 201 while the service was up"; status=1; }
[ "$bad" -eq 0 ] || echo "FAIL: $bad acknowledged products missing or different"
[ "$status" -ne 0 ] || echo "PASS"
exit "$status"
