#!/usr/bin/env bash
# Refresh the translation files of the addon and its bridges after their strings changed:
#   1. installs the addon, then each bridge, without demo data in a throwaway database
#      (dropped at the end, even on failure), exporting the terms of each before the
#      next is installed to its i18n/<module>.pot (a template: no language);
#   2. merges that template into every i18n/<lang>.po with GNU gettext's msgmerge
#      (no fuzzy matching, obsolete entries dropped): new strings arrive untranslated,
#      translations of unchanged strings are kept.
# A file whose content did not change (only its dates) is left as it was.
# Then translate the entries it reports as untranslated; until then
# the i18n tests of the addon and of each bridge fail and name them.
#
# Usage: tools/update_i18n.sh        (PYTHON=..., PGHOST/PGUSER... as for make test)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

require_odoo18
require_postgres
for tool in msgmerge msgattrib msgfmt; do
    command -v "$tool" >/dev/null ||
        die "$tool not found: install GNU gettext (e.g. 'apt-get install gettext')"
done

DB=sfp_i18n_$(date +%Y%m%d_%H%M%S)_$$
WORK=$(mktemp -d)
created_db=0

cleanup() {
    if [ "$created_db" = 1 ]; then
        dropdb --if-exists "$DB" || warn "could not drop database $DB"
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# same_but_dates OLD NEW: whether two PO files differ at most in their header dates.
same_but_dates() {
    [ -f "$1" ] || return 1
    local dates='^"(POT-Creation-Date|PO-Revision-Date): '
    cmp -s <(grep -Ev "$dates" "$1") <(grep -Ev "$dates" "$2")
}

# install NEW TARGET: put NEW in place of TARGET unless only the dates changed.
install_file() {
    if same_but_dates "$2" "$1"; then
        info "$2: unchanged"
    else
        cp "$1" "$2"
        info "$2: updated"
    fi
}

ADDONS_PATH="$(odoo_addons_path),$ROOT"
odoo_opts=(-d "$DB" --addons-path="$ADDONS_PATH" --data-dir="$WORK/data"
    --log-level=warn --log-handler=py.warnings:ERROR)

MODULES=("$ADDON" "${BRIDGES[@]}")
created_db=1

# install MODULE: install it (and what it depends on) in the throwaway database
install_module() {
    info "Installing $1 without demo data in the throwaway database $DB"
    odoo_cmd "${odoo_opts[@]}" -i "$1" --without-demo=all --stop-after-init
    [ "$(module_state "$DB" "$1")" = installed ] ||
        die "$1 did not install in $DB; see the log above"
}

untranslated=0
# update_module MODULE: export its template, merge it into each of its .po files
update_module() {
    local module=$1 i18n=$1/i18n
    local pot=$i18n/$1.pot
    info "Exporting the terms of $module"
    # no --language: a template, with empty translations and no Language header
    odoo_cmd "${odoo_opts[@]}" --i18n-export="$WORK/$module.pot" --modules="$module"
    [ -s "$WORK/$module.pot" ] || die "the export wrote no $module.pot; see the log above"
    mkdir -p "$i18n"
    install_file "$WORK/$module.pot" "$pot"

    shopt -s nullglob
    local po_files=("$i18n"/*.po) po lang stats todo n
    [ ${#po_files[@]} -gt 0 ] || warn "no $i18n/*.po to merge the template into"
    for po in "${po_files[@]}"; do
        lang=$(basename "$po" .po)
        msgmerge --quiet --no-fuzzy-matching --output-file="$WORK/$module.$lang.merged.po" \
            "$po" "$pot"
        msgattrib --no-obsolete --output-file="$WORK/$module.$lang.po" \
            "$WORK/$module.$lang.merged.po"
        msgfmt --check-format --output-file=/dev/null "$WORK/$module.$lang.po" ||
            die "$po: the merged file does not compile (see above)"
        install_file "$WORK/$module.$lang.po" "$po"
        # msgfmt --statistics: "N translated messages, N fuzzy translations, N
        # untranslated messages." (the last two only when not zero)
        stats=$(LC_ALL=C msgfmt --statistics --output-file=/dev/null "$po" 2>&1 || true)
        todo=0
        for n in $(grep -Eo '[0-9]+ (fuzzy|untranslated)' <<<"$stats" | cut -d' ' -f1 || true); do
            todo=$((todo + n))
        done
        if [ "$todo" -gt 0 ]; then
            warn "$po: $todo entries to translate (empty or fuzzy msgstr)"
            untranslated=1
        else
            info "$po: every entry is translated"
        fi
    done
}
# each module is exported before the next is installed: a bridge extends the
# addon's fields (a criterion kind), which must not reach the addon's template
for module in "${MODULES[@]}"; do
    install_module "$module"
    update_module "$module"
done

if [ "$untranslated" = 1 ]; then
    warn "translate the entries above: the i18n tests fail until then"
fi
info "Done; review the changes with: git diff -- ${MODULES[*]/%//i18n}"
