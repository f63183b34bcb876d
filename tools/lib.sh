# shellcheck shell=bash
# Helpers shared by the scripts of tools/ (sourced).
# shellcheck disable=SC2034  # ADDON and ROOT are for the scripts that source this

PYTHON=${PYTHON:-python3}
ADDON=sales_funnel_pro
# the optional bridges, beside the addon (auto-installed with their parents)
BRIDGES=(sales_funnel_pro_sale)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

info() { printf '\033[1m==> %s\033[0m\n' "$*"; }
warn() { printf '\033[33mwarning: %s\033[0m\n' "$*" >&2; }
die() {
    printf '\033[31merror: %s\033[0m\n' "$*" >&2
    exit 1
}

# Run a command as root (directly, or through sudo when available).
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        die "'$*' needs root and sudo is not available"
    fi
}

# ODOO_MAJOR, ODOO_VERSION and ODOO_ROOT (the source tree: the folder holding the
# 'odoo' package and odoo-bin) of the Odoo that $PYTHON imports; empty when none.
load_odoo() {
    local out
    out=$("$PYTHON" -c 'import os, odoo.release as r
print(r.version_info[0], r.version, os.path.dirname(os.path.dirname(os.path.abspath(r.__file__))))' \
        2>/dev/null) || out=""
    read -r ODOO_MAJOR ODOO_VERSION ODOO_ROOT <<<"$out" || true
}

require_odoo18() {
    load_odoo
    [ -n "$ODOO_MAJOR" ] || die "Odoo is not importable by '$PYTHON' ($(command -v "$PYTHON")).
       Run 'make setup' (optionally with ODOO_SOURCE=<an Odoo 18 source tree>)."
    [ "$ODOO_MAJOR" = 18 ] || die "'$PYTHON' imports Odoo $ODOO_VERSION from $ODOO_ROOT; this project needs Odoo 18."
}

# (after load_odoo) Odoo's own addons folders, comma separated: <root>/addons (in a
# git checkout, where crm is) and <root>/odoo/addons.
odoo_addons_path() {
    local dir path=""
    for dir in "$ODOO_ROOT/addons" "$ODOO_ROOT/odoo/addons"; do
        [ -d "$dir" ] && path="${path:+$path,}$dir"
    done
    echo "$path"
}

# The folder of one of Odoo's addons, e.g. addon_dir crm.
addon_dir() {
    local dir dirs
    IFS=, read -ra dirs <<<"$(odoo_addons_path)"
    for dir in "${dirs[@]}"; do
        [ -f "$dir/$1/__manifest__.py" ] && echo "$dir/$1" && return
    done
    die "addon '$1' not found in $(odoo_addons_path)"
}

# (after load_odoo) Run Odoo's command line: odoo-bin of the source tree, or else
# 'python -m odoo'.
odoo_cmd() {
    if [ -f "$ODOO_ROOT/odoo-bin" ]; then
        "$PYTHON" "$ODOO_ROOT/odoo-bin" "$@"
    else
        "$PYTHON" -m odoo "$@"
    fi
}

pg_ok() { psql -d postgres -Atqc 'select 1' >/dev/null 2>&1; }

require_postgres() {
    pg_ok || die "cannot connect to PostgreSQL as '$(id -un)'; run 'make setup' (it starts
       PostgreSQL and creates the login role) or set PGHOST/PGPORT/PGUSER."
}

db_exists() {
    [ "$(psql -d postgres -Atqc "select 1 from pg_database where datname = '$1'")" = 1 ]
}

# State of a module in a database ('installed', 'uninstalled', ...; empty if unknown).
module_state() {
    psql -d "$1" -Atqc "select state from ir_module_module where name = '$2'" 2>/dev/null || true
}

# Whether a module's demo data is loaded in a database ('t' or 'f').
module_demo() {
    psql -d "$1" -Atqc "select demo from ir_module_module where name = '$2'" 2>/dev/null || true
}

find_chrome() {
    command -v chromium || command -v chromium-browser || command -v google-chrome ||
        command -v google-chrome-stable
}
