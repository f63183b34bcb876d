#!/usr/bin/env bash
# `make lint`: every check runs, even after one fails; the exit code says if any did.
#   ruff check, ruff format --check        the whole repository (pyproject.toml)
#   pylint with pylint-odoo                 the addon, mandatory checks (.pylintrc)
#   oca-checks-odoo-module, oca-checks-po   the addon's manifest, XML, CSV and PO files
#   tools/gen_readme.py --check             README.rst matches the readme/ fragments
#   bash -n                                 the shell scripts (tools/*.sh, .ci/run)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit

failed=()
# check NAME COMMAND...
check() {
    local name=$1
    shift
    info "$name"
    "$@" || failed+=("$name")
}

check "ruff check" "$PYTHON" -m ruff check .
check "ruff format --check" "$PYTHON" -m ruff format --check .
check "pylint-odoo (mandatory checks)" "$PYTHON" -m pylint --rcfile=.pylintrc "$ADDON" "${BRIDGES[@]}"
manifests=("$ADDON/__manifest__.py")
for bridge in "${BRIDGES[@]}"; do manifests+=("$bridge/__manifest__.py"); done
check "oca-checks-odoo-module" "$PYTHON" -m oca_pre_commit_hooks.cli "${manifests[@]}"
shopt -s nullglob
po_files=("$ADDON"/i18n/*.po "$ADDON"/i18n/*.pot)
for bridge in "${BRIDGES[@]}"; do po_files+=("$bridge"/i18n/*.po "$bridge"/i18n/*.pot); done
check "oca-checks-po" "$PYTHON" -m oca_pre_commit_hooks.cli_po --disable=po-pretty-format "${po_files[@]}"
check "README.rst from readme/" "$PYTHON" tools/gen_readme.py --check
scripts=(tools/*.sh .ci/run)
check "bash -n (the scripts)" bash -c 'for f; do bash -n "$f" || exit 1; done' _ "${scripts[@]}"

if [ ${#failed[@]} -gt 0 ]; then
    printf '  failed: %s\n' "${failed[@]}" >&2
    die "make lint found problems"
fi
info "Lint clean"
