#!/usr/bin/env bash
# `make test`: the addon's tests and Odoo's own crm tests under pytest-odoo, against
# real PostgreSQL, in throwaway databases that are dropped at the end, even on failure.
#
#   phase 1: a database without demo data, with sales_funnel_pro installed:
#            sales_funnel_pro/tests/ (except test_demo_data.py) and crm's
#            test_crm_lead.py, test_crm_lead_convert.py, test_crm_lead_merge.py
#            and test_crm_ui.py; browser tours included (--odoo-http, Chromium)
#   phase 2: a database with demo data, with sales_funnel_pro installed:
#            sales_funnel_pro/tests/test_demo_data*.py, when they exist
#   phase 3: a database without demo data with sale_crm, where the bridge
#            sales_funnel_pro_sale installs itself: its tests
#   phase 4: a short load run (tools/load/: LOAD_SECONDS=30 per side, LOAD_CLIENTS=4,
#            on Odoo with 4 workers and a cron worker on a free port of 127.0.0.1, in
#            two databases of its own); skipped when pytest arguments are given
#
# Arguments go to pytest: make test PYTEST_ARGS="-k gate -x"
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

require_odoo18
require_postgres
find_chrome >/dev/null || die "Chromium not found (the browser tours need it); run 'make setup'"
"$PYTHON" -c 'import pytest_odoo, websocket' 2>/dev/null ||
    die "pytest-odoo or websocket-client is missing; run 'make setup'"
[ -d "$ADDON/tests" ] || die "$ADDON/tests/ not found"

crm=$(addon_dir crm)
CRM_TESTS=()
for f in test_crm_lead.py test_crm_lead_convert.py test_crm_lead_merge.py test_crm_ui.py; do
    [ -f "$crm/tests/$f" ] || die "$crm/tests/$f not found"
    CRM_TESTS+=("$crm/tests/$f")
done
DEMO_TEST=$ADDON/tests/test_demo_data.py
shopt -s nullglob
DEMO_TESTS=("$ADDON"/tests/test_demo_data*.py)
shopt -u nullglob
IGNORE_DEMO=()
for f in "${DEMO_TESTS[@]}"; do IGNORE_DEMO+=(--ignore="$f"); done
ADDONS_PATH="$(odoo_addons_path),$ROOT"
# pytest's root: the common folder of the repository and crm, so that test ids name
# their files (pytest leaves the path out of the ids of files outside its root).
RUN_ROOT=$("$PYTHON" -c 'import os, sys; print(os.path.commonpath(sys.argv[1:]))' "$ROOT" "$crm")
RUN=${TEST_DB_PREFIX:-sfp_test}_$(date +%Y%m%d_%H%M%S)_$$
DATA_DIR=$(mktemp -d)
DBS=()

cleanup() {
    local db
    for db in "${DBS[@]}"; do
        dropdb --if-exists "$db" || warn "could not drop database $db"
    done
    rm -rf "$DATA_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# create_db NAME demo|nodemo [MODULES]: a new database with the addon (and MODULES)
# installed, with or without demo data. (Python warnings are kept out of this log;
# pytest reports them.)
create_db() {
    local db=$1 demo=$2 modules=${3:-$ADDON} opts=()
    DBS+=("$db")
    [ "$demo" = demo ] || opts=(--without-demo=all)
    info "Creating database $db ($demo) with $ADDON installed"
    odoo_cmd -d "$db" -i "$modules" "${opts[@]}" --stop-after-init --log-level=warn \
        --log-handler=py.warnings:ERROR --addons-path="$ADDONS_PATH" --data-dir="$DATA_DIR"
    [ "$(module_state "$db" "$ADDON")" = installed ] ||
        die "$ADDON did not install in $db; see the log above"
    [ "$demo" = nodemo ] || [ "$(module_demo "$db" "$ADDON")" = t ] ||
        die "the demo data of $ADDON did not load in $db; see the log above"
}

# run_pytest DB PATH...: pytest-odoo on that database; returns pytest's exit code.
run_pytest() {
    local db=$1 plugin=()
    shift
    # pytest-odoo registers itself unless plugin autoloading is turned off.
    [ -z "${PYTEST_DISABLE_PLUGIN_AUTOLOAD:-}" ] || plugin=(-p pytest_odoo)
    info "pytest on $db: $*"
    "$PYTHON" -m pytest "${plugin[@]}" -c "$ROOT/pyproject.toml" \
        --rootdir="$RUN_ROOT" -o cache_dir="$ROOT/.pytest_cache" \
        --odoo-database="$db" --odoo-addons-path="$ADDONS_PATH" \
        --odoo-extra="data-dir=$DATA_DIR" --odoo-http "$@" "${PYTEST_EXTRA[@]}"
}

PYTEST_EXTRA=("$@")
results=()
failed=0
ran=0
# record PHASE RC: keep the outcome; pytest exits with 5 when no test was collected,
# which is a failure, unless extra arguments (-k ...) deselected this phase on purpose.
record() {
    case $2 in
        0) results+=("$1: passed") ran=1 ;;
        5) if [ ${#PYTEST_EXTRA[@]} -gt 0 ]; then
               results+=("$1: no test selected")
           else
               results+=("$1: FAILED, no test collected") failed=1
           fi ;;
        *) results+=("$1: FAILED (pytest exit code $2)") ran=1 failed=1 ;;
    esac
}

create_db "${RUN}_nodemo" nodemo
rc=0
run_pytest "${RUN}_nodemo" "$ADDON/tests" "${IGNORE_DEMO[@]}" "${CRM_TESTS[@]}" || rc=$?
record "phase 1, without demo data ($ADDON/tests + crm tests)" "$rc"

if [ -f "$DEMO_TEST" ]; then
    create_db "${RUN}_demo" demo
    rc=0
    run_pytest "${RUN}_demo" "${DEMO_TESTS[@]}" || rc=$?
    record "phase 2, with demo data (${DEMO_TESTS[*]})" "$rc"
else
    results+=("phase 2, with demo data: skipped, no $DEMO_TEST")
fi

for bridge in "${BRIDGES[@]}"; do
    [ -d "$ROOT/$bridge/tests" ] || die "$bridge/tests/ not found"
    create_db "${RUN}_$bridge" nodemo "$ADDON,sale_crm"
    [ "$(module_state "${RUN}_$bridge" "$bridge")" = installed ] ||
        die "$bridge did not install itself with sale_crm in ${RUN}_$bridge"
    rc=0
    run_pytest "${RUN}_$bridge" "$ROOT/$bridge/tests" || rc=$?
    record "phase 3, the bridge $bridge (with sale_crm)" "$rc"
done

if [ ${#PYTEST_EXTRA[@]} -eq 0 ]; then
    DBS+=("${RUN}_load" "${RUN}_load_stock")
    info "Load run: ${LOAD_CLIENTS:-4} clients, ${LOAD_SECONDS:-30}s per side (tools/load/)"
    rc=0
    "$PYTHON" tools/load --seconds "${LOAD_SECONDS:-30}" --clients "${LOAD_CLIENTS:-4}" \
        --n 500 --db "${RUN}_load" --port 0 || rc=$?
    if [ "$rc" = 0 ]; then
        results+=("phase 4, load run: passed")
    else
        results+=("phase 4, load run: FAILED (exit code $rc)") failed=1
    fi
else
    results+=("phase 4, load run: skipped (pytest arguments given)")
fi

[ "$ran" = 1 ] || { results+=("no test ran at all"); failed=1; }
info "Summary"
printf '  %s\n' "${results[@]}"
[ "$failed" = 0 ] || die "make test failed"
info "All tests passed"
