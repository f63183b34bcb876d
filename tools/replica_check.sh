#!/usr/bin/env bash
# `make replica-check`: the addon's reports and dashboards on a read replica.
#
#   1. a PostgreSQL cluster of its own (initdb, port REPLICA_PRIMARY_PORT, 5443) holding
#      a database with the addon and demo data (pg_stat_statements loaded);
#   2. a streaming hot standby of it (pg_basebackup -R into a second cluster, port
#      REPLICA_STANDBY_PORT, 5444), caught up with the primary;
#   3. Odoo on 127.0.0.1:REPLICA_ODOO_PORT (8171) with 2 workers, db_host/db_port on the
#      primary and db_replica_host/db_replica_port on the standby;
#   4. tools/replica_open.py opens every report and dashboard through HTTP, as the
#      sales manager (admin) and as a salesperson (demo);
#   5. shows from the standby's pg_stat_database and pg_stat_statements that the
#      reports' queries ran there, and from the primary's that they did not; passes
#      when every report opened, each report's table or view was read on the standby
#      and not on the primary, every request of the reports was served by a read-only
#      cursor (Odoo's log of each request ends with its cursor mode when a replica is
#      set: ro), and Odoo logged no read-only request that wrote ("retrying with a
#      read/write cursor") and no fall back to the primary.
# Everything is removed at the end (clusters, Odoo, files), even on failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

PRIMARY_PORT=${REPLICA_PRIMARY_PORT:-5443}
STANDBY_PORT=${REPLICA_STANDBY_PORT:-5444}
ODOO_PORT=${REPLICA_ODOO_PORT:-8171}
DB=${REPLICA_DB:-funnel_replica}
PG_ROLE=funnel  # the superuser of the two clusters (Odoo refuses to connect as postgres)
# tables and views that the reports read: each must be read on the standby only
REPORT_TABLES=(funnel_forecast_report funnel_accuracy_report funnel_accuracy_trend
    funnel_effort_report funnel_stage_history funnel_activity_log
    funnel_forecast_snapshot funnel_stage_win_rate funnel_lead_check crm_lead
    funnel_conversion_report funnel_rep_benchmark funnel_pipeline_change_report
    funnel_target funnel_handoff_report funnel_care_coverage_report funnel_installed_asset)

require_odoo18
bindir=$(pg_config --bindir 2>/dev/null || true)
[ -x "$bindir/initdb" ] || bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bindir/initdb" ] || die "PostgreSQL's server programs (initdb, pg_ctl, pg_basebackup) not found"
for port in "$PRIMARY_PORT" "$STANDBY_PORT" "$ODOO_PORT"; do
    ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || die "port $port is in use"
done

WORK=$(mktemp -d /tmp/funnel_replica.XXXXXX)
chmod 755 "$WORK"
# PostgreSQL refuses to run as root: then run its programs as the postgres user
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}
[ "$(id -u)" -ne 0 ] || chown postgres "$WORK"
ODOO_PID=""

cleanup() {
    [ -z "$ODOO_PID" ] || { kill "$ODOO_PID" 2>/dev/null; wait "$ODOO_PID" 2>/dev/null || true; }
    for cluster in standby primary; do
        [ -f "$WORK/$cluster/postmaster.pid" ] &&
            as_pg "$bindir/pg_ctl" -D "$WORK/$cluster" -m immediate -w stop >/dev/null 2>&1
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

sql() { # sql PORT DB QUERY
    psql -X -h 127.0.0.1 -p "$1" -U "$PG_ROLE" -d "$2" -v ON_ERROR_STOP=1 -Atqc "$3"
}

info "Primary cluster on port $PRIMARY_PORT ($WORK/primary)"
as_pg "$bindir/initdb" -D "$WORK/primary" -U "$PG_ROLE" --auth=trust -E UTF8 \
    --locale=C.UTF-8 >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log"; die "initdb failed"; }
cat >>"$WORK/primary/postgresql.conf" <<EOF
port = $PRIMARY_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$WORK'
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
wal_level = replica
max_wal_senders = 4
hot_standby = on
fsync = off
EOF
as_pg "$bindir/pg_ctl" -D "$WORK/primary" -l "$WORK/primary.log" -w start >/dev/null

info "Database $DB with $ADDON and demo data on the primary"
ADDONS_PATH="$(odoo_addons_path),$ROOT"
DB_OPTS=(--db_host=127.0.0.1 --db_port="$PRIMARY_PORT" --db_user="$PG_ROLE")
odoo_cmd -d "$DB" "${DB_OPTS[@]}" -i "$ADDON" --stop-after-init --log-level=warn \
    --log-handler=py.warnings:ERROR --addons-path="$ADDONS_PATH" --data-dir="$WORK/data"
[ "$(sql "$PRIMARY_PORT" "$DB" "select state from ir_module_module where name = '$ADDON'")" = installed ] ||
    die "$ADDON did not install in $DB"
sql "$PRIMARY_PORT" "$DB" "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null

info "Hot standby on port $STANDBY_PORT (pg_basebackup, streaming)"
as_pg "$bindir/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U "$PG_ROLE" \
    -D "$WORK/standby" -R -X stream -c fast
echo "port = $STANDBY_PORT" | as_pg tee -a "$WORK/standby/postgresql.auto.conf" >/dev/null
as_pg "$bindir/pg_ctl" -D "$WORK/standby" -l "$WORK/standby.log" -w start >/dev/null
[ "$(sql "$STANDBY_PORT" postgres "select pg_is_in_recovery()")" = t ] ||
    die "the standby is not in recovery"
for _ in $(seq 60); do
    lag=$(sql "$PRIMARY_PORT" postgres "select coalesce(max(pg_wal_lsn_diff(
        pg_current_wal_lsn(), replay_lsn)), -1) from pg_stat_replication")
    [ "$lag" = 0 ] && break
    sleep 1
done
[ "$lag" = 0 ] || die "the standby did not catch up (lag $lag bytes)"
echo "  streaming, replay lag 0 bytes"

info "Odoo on http://127.0.0.1:$ODOO_PORT, reads on the replica"
if [ -f "$ODOO_ROOT/odoo-bin" ]; then ODOO=("$PYTHON" "$ODOO_ROOT/odoo-bin"); else ODOO=("$PYTHON" -m odoo); fi
"${ODOO[@]}" -d "$DB" "${DB_OPTS[@]}" --db_replica_host=127.0.0.1 \
    --db_replica_port="$STANDBY_PORT" --db-filter="^$DB\$" --no-database-list \
    --addons-path="$ADDONS_PATH" --data-dir="$WORK/data" --http-interface=127.0.0.1 \
    --http-port="$ODOO_PORT" --gevent-port="$((ODOO_PORT + 1))" --workers=2 \
    --max-cron-threads=0 --logfile="$WORK/odoo.log" --log-level=warn \
    --log-handler=werkzeug:INFO >"$WORK/odoo.out" 2>&1 &
ODOO_PID=$!
for _ in $(seq 120); do
    curl -fs "http://127.0.0.1:$ODOO_PORT/web/webclient/version_info" -o /dev/null \
        -H 'Content-Type: application/json' -d '{}' && break
    kill -0 "$ODOO_PID" 2>/dev/null || die "Odoo stopped; see its log above"
    sleep 1
done
stats_sql="select xact_commit + xact_rollback, tup_returned + tup_fetched
             from pg_stat_database where datname = '$DB'"
read -r before_xacts before_rows <<<"$(sql "$STANDBY_PORT" postgres "$stats_sql" | tr '|' ' ')"
sql "$STANDBY_PORT" "$DB" "select pg_stat_statements_reset()" >/dev/null
sql "$PRIMARY_PORT" "$DB" "select pg_stat_statements_reset()" >/dev/null

info "Opening every report and dashboard, as the manager and as a salesperson"
failed=()
for user in admin demo; do
    "$PYTHON" tools/replica_open.py "http://127.0.0.1:$ODOO_PORT" "$DB" "$user" "$user" ||
        failed+=("a report did not open for $user")
done

info "On the standby (port $STANDBY_PORT)"
read -r after_xacts after_rows <<<"$(sql "$STANDBY_PORT" postgres "$stats_sql" | tr '|' ' ')"
echo "  pg_stat_database: $((after_xacts - before_xacts)) transactions," \
    "$((after_rows - before_rows)) rows read in $DB during the check"
# reads_of PORT TABLE: the calls and rows of the statements that read TABLE
reads_of() {
    sql "$1" "$DB" "select coalesce(sum(calls), 0), coalesce(sum(rows), 0)
        from pg_stat_statements s join pg_database d on d.oid = s.dbid
       where d.datname = '$DB' and s.query ~* '^\\s*(with|select)'
         and s.query ~ '\\m$2\\M'" | tr '|' ' '
}
printf '  %-30s %16s %16s\n' "report table or view" "standby calls" "primary calls"
for table in "${REPORT_TABLES[@]}"; do
    read -r standby_calls standby_rows <<<"$(reads_of "$STANDBY_PORT" "$table")"
    read -r primary_calls _ <<<"$(reads_of "$PRIMARY_PORT" "$table")"
    printf '  %-30s %16s %16s\n' "$table" "$standby_calls ($standby_rows rows)" "$primary_calls"
    [ "$standby_calls" -gt 0 ] || failed+=("no read of $table on the standby")
    [ "$primary_calls" = 0 ] || failed+=("$table read on the primary ($primary_calls statements)")
done
echo "  the standby's busiest statements:"
sql "$STANDBY_PORT" "$DB" "select lpad(calls::text, 6) || '  ' || left(regexp_replace(query,
        '\\s+', ' ', 'g'), 110) from pg_stat_statements s join pg_database d on d.oid = s.dbid
      where d.datname = '$DB' order by calls desc limit 8" | sed 's/^/    /'
echo "  the requests of the reports by cursor, from Odoo's log (ro: read-only, on the standby):"
calls=$(sed -nE 's#.* werkzeug: .*"POST /web/(dataset/call_kw|action)/?([^ ]*) HTTP[^"]*" [0-9]+ - [0-9]+ [0-9.]+ [0-9.]+ ([^ ]+).*#\2 \3#p' \
    "$WORK/odoo.log" | sort | uniq -c | sort -k2)
sed 's/^/    /' <<<"$calls"
not_ro=$(awk '$3 != "ro" { n += $1 } END { print n + 0 }' <<<"$calls")
[ "$not_ro" = 0 ] || failed+=("$not_ro requests of the reports not served read-only")
writes=$(grep -c "retrying with a read/write cursor" "$WORK/odoo.log" || true)
fallbacks=$(grep -c "Failed to open a readonly cursor" "$WORK/odoo.log" || true)
errors=$(grep -c " ERROR \| CRITICAL " "$WORK/odoo.log" || true)
echo "  Odoo's log: $writes read-only requests that wrote, $fallbacks fall backs to the" \
    "primary, $errors errors"
[ "$writes" = 0 ] || { grep -A3 "retrying with a read/write cursor" "$WORK/odoo.log" | head -20; failed+=("$writes read-only requests wrote"); }
[ "$fallbacks" = 0 ] || failed+=("Odoo could not reach the replica")
[ "$errors" = 0 ] || { grep " ERROR \| CRITICAL " "$WORK/odoo.log" | head -10; failed+=("$errors errors in Odoo's log"); }

info "Summary"
if [ ${#failed[@]} -gt 0 ]; then
    printf '  - %s\n' "${failed[@]}"
    die "replica check failed"
fi
echo "  every report opened for both users; their queries ran on the standby"
info "Replica check passed"
