#!/usr/bin/env bash
# What PostgreSQL itself spends on the statements of one write and of the miss after it (issue
# #26 goal 2), without the service: pgbench sends them as the service does, and the CPU of the
# machine during each run, less pgbench's own, is divided by the transactions it made.
#
# A schema of the local PostgreSQL made for the run (dropped after it) gets the service's own
# migrations (src/main/resources/db/migration/postgresql, applied in order with psql, so the
# triggers of the change feed and of the version guard are there) and N products. Then, each for
# PHASE_S s with CLIENTS pgbench clients on prepared statements:
#  update           BEGIN; the service's UPDATE ... RETURNING of a new price; COMMIT, as a writer
#                   outside the service sends it (its commit notifies the change feeds)
#  update-service   the same from a session that sets catalog.writer as the service's pool does:
#                   no notification (migration V4)
#  update-no-feed   the same with the change feed's two triggers disabled (products_record_change,
#                   products_notify_change), to show what the feed costs each write
#  update-no-trig   the same with every trigger of the table disabled
#  read             BEGIN READ ONLY; the service's SELECT of one product by id; COMMIT
# The machine must be otherwise idle: it waits for a quiet machine (bench_wait_quiet) and prints
# what other processes used as the CPU of the statements.
#
# Usage: bench/pg-write-cost.sh    (about a minute with the defaults)
# Env:   N=1000 CLIENTS=8 PHASE_S=10 OUT=bench/results/pg-write-cost.txt BENCH_KEEP=0
source "$(dirname "$0")/lib.sh"

N="${N:-1000}"
CLIENTS="${CLIENTS:-8}"
PHASE_S="${PHASE_S:-10}"
OUT="${OUT:-$BENCH_DIR/results/pg-write-cost.txt}"

bench_init
bench_need psql postgresql-client
bench_need pgbench postgresql
T="$BENCH_TMP"
SCHEMA="write_cost_$$"
bench_pg_schema "$SCHEMA"
for migration in $(ls "$REPO_DIR/src/main/resources/db/migration/postgresql/"V*.sql | sort -V); do
	PGOPTIONS="-c search_path=$SCHEMA -c client_min_messages=warning" \
		psql -h 127.0.0.1 -U postgres -d test -qAt -v ON_ERROR_STOP=1 -f "$migration" >/dev/null
done
bench_psql "SET search_path = $SCHEMA;
	INSERT INTO products (name, name_lower, description, price_cents, stock_quantity, created_at, updated_at, version)
	SELECT 'Product ' || g, 'product ' || g, 'seeded', 100 + g, 5, now(), now(), 0 FROM generate_series(1, $N) g;
	ANALYZE products" >/dev/null

# The statements as the service sends them (ProductRepository.updateReturning with only a price
# given; Hibernate's find by id).
cat >"$T/update.sql" <<EOF
\set id random(1, $N)
\set price random(1, 99999)
BEGIN;
UPDATE products SET name = COALESCE(NULL, name), name_lower = COALESCE(NULL, name_lower), description = CASE WHEN false THEN NULL ELSE description END, price_cents = COALESCE(:price, price_cents), stock_quantity = COALESCE(NULL, stock_quantity), updated_at = now(), version = version + 1 WHERE id = :id AND (name <> COALESCE(NULL, name) OR description IS DISTINCT FROM (CASE WHEN false THEN NULL ELSE description END) OR price_cents <> COALESCE(:price, price_cents) OR stock_quantity <> COALESCE(NULL, stock_quantity)) RETURNING id, name, name_lower, description, price_cents, stock_quantity, created_at, updated_at, version;
COMMIT;
EOF
cat >"$T/read.sql" <<EOF
\set id random(1, $N)
BEGIN READ ONLY;
SELECT p1_0.id, p1_0.created_at, p1_0.description, p1_0.name, p1_0.name_lower, p1_0.price_cents, p1_0.stock_quantity, p1_0.updated_at, p1_0.version FROM products p1_0 WHERE p1_0.id = :id;
COMMIT;
EOF

HZ="$(getconf CLK_TCK)"
RESULTS=()
# phase NAME SCRIPT [PGOPTIONS]: one pgbench run; appends "NAME tx tps machine_ms pgbench_ms". The machine's
# CPU and pgbench's own (a child this shell reaps) come from bench_cpu_mark.
phase() {
	local name="$1" script="$2" options="${3:-}" before after tx tps
	before="$(bench_cpu_mark)"
	PGOPTIONS="-c search_path=$SCHEMA $options" \
		pgbench -h 127.0.0.1 -U postgres -n -M prepared -c "$CLIENTS" -j 2 -T "$PHASE_S" -f "$script" test \
		>"$T/pgbench-$name.txt" 2>&1 || { cat "$T/pgbench-$name.txt" >&2; die "pgbench failed ($name)"; }
	after="$(bench_cpu_mark)"
	tx="$(awk '/number of transactions actually processed/ { split($NF, a, "/"); print a[1] }' "$T/pgbench-$name.txt")"
	tps="$(awk '/^tps/ { printf "%d", $3 }' "$T/pgbench-$name.txt")"
	[ "${tx:-0}" -gt 0 ] || die "pgbench made no transaction ($name)"
	RESULTS+=("$name $tx $tps $(awk -v a="$before" -v b="$after" -v hz="$HZ" -v t="$tx" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		printf "%.3f %.3f", (y[1] - x[1]) * 1000 / hz / t, (y[3] - x[3]) * 1000 / hz / t }')")
	log "$name: ${RESULTS[-1]}"
}

bench_wait_quiet
LOAD_BEFORE="$(bench_loadavg)"
START="$(date -u +%H:%M:%S)"
phase update "$T/update.sql"
phase update-service "$T/update.sql" "-c catalog.writer=product-catalog"
bench_psql "ALTER TABLE $SCHEMA.products DISABLE TRIGGER products_record_change, DISABLE TRIGGER products_notify_change" >/dev/null
phase update-no-feed "$T/update.sql"
bench_psql "ALTER TABLE $SCHEMA.products DISABLE TRIGGER USER" >/dev/null
phase update-no-trig "$T/update.sql"
bench_psql "ALTER TABLE $SCHEMA.products ENABLE TRIGGER USER" >/dev/null
phase read "$T/read.sql"
END="$(date -u +%H:%M:%S)"

mkdir -p "$(dirname "$OUT")"
{
	echo "bench/pg-write-cost.sh  $(date -u +%Y-%m-%d) $START-$END UTC  commit $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)  N=$N  pgbench -M prepared -c $CLIENTS -j 2  ${PHASE_S}s each"
	echo "machine: $(nproc) cores; PostgreSQL $(bench_psql 'SHOW server_version'); synchronous_commit $(bench_psql 'SHOW synchronous_commit'); load avg before: $LOAD_BEFORE, after: $(bench_loadavg)"
	echo "PostgreSQL ms/tx: the machine's CPU during the run less pgbench's own, per transaction (includes anything else that ran)"
	printf '%-16s %9s %8s %13s %13s %15s\n' phase transactions tps "machine ms/tx" "pgbench ms/tx" "PostgreSQL ms/tx"
	for r in "${RESULTS[@]}"; do
		read -r name tx tps machine own <<<"$r"
		printf '%-16s %9s %8s %13s %13s %15s\n' "$name" "$tx" "$tps" "$machine" "$own" "$(awk -v m="$machine" -v o="$own" 'BEGIN { printf "%.3f", m - o }')"
	done
} | tee "$OUT"
