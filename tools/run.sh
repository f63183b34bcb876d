#!/usr/bin/env bash
# `make run`: serve a database with demo data and the addon, creating it the first
# time and updating the addon in it afterwards.  Usage: tools/run.sh DB PORT
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

DB=${1:-funnel_demo}
PORT=${2:-8069}
require_odoo18
require_postgres
ADDONS_PATH="$(odoo_addons_path),$ROOT"

# odoo [shell] OPTIONS...: Odoo on $DB with the repository in its addons path. Python
# warnings are left out of the log: Odoo 18's own calls to werkzeug.urls, deprecated
# by the Werkzeug it pins, would fill it with tracebacks (make test still shows them).
odoo() {
    local cmd=()
    case ${1:-} in shell) cmd=("$1") && shift ;; esac
    odoo_cmd "${cmd[@]}" -d "$DB" --addons-path="$ADDONS_PATH" --log-handler=py.warnings:ERROR "$@"
}

if ! db_exists "$DB"; then
    info "Creating database $DB with demo data and $ADDON (takes a minute or two)"
    odoo -i "$ADDON" --stop-after-init --log-level=warn
elif [ "$(module_state "$DB" "$ADDON")" != installed ]; then
    info "Installing $ADDON in $DB"
    odoo -i "$ADDON" --stop-after-init --log-level=warn
else
    info "Updating $ADDON in $DB"
    odoo -u "$ADDON" --stop-after-init --log-level=warn
    info "Setting the password of admin to 'admin'"
    odoo shell --log-level=warn --no-http <<'EOF' >/dev/null
env.ref("base.user_admin").password = "admin"
env.cr.commit()
EOF
fi
[ "$(module_state "$DB" "$ADDON")" = installed ] || die "$ADDON is not installed in $DB; see the log above"
[ "$(module_demo "$DB" "$ADDON")" = t ] || warn "$DB has no demo data of $ADDON (see the log above)"

info "Serving $DB on http://localhost:$PORT (login admin, password admin); Ctrl-C stops it"
odoo --http-port="$PORT" --db-filter="^$DB\$"
