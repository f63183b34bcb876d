#!/usr/bin/env bash
# `make setup`: install what `make run`, `make test` and `make lint` need.
# Idempotent and non-interactive; each step does nothing when its part is present.
# `make run` and `make test` start with it: when everything is there it checks in a
# few seconds and prints one line.
#
#   1. PostgreSQL running, with a superuser login role for the current OS user
#   2. Odoo 18 importable by $PYTHON: from ODOO_SOURCE=<an Odoo 18 source tree>,
#      else from Odoo's official 18.0 source (git, then the nightly tarball)
#   3. the test and lint tools of requirements-dev.txt
#   4. Chromium, for the browser tours
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ODOO_SOURCE=${ODOO_SOURCE:-}
ODOO_DOWNLOAD_DIR=${ODOO_DOWNLOAD_DIR:-$HOME/.local/share/odoo-18.0}
ODOO_GIT_URL=https://github.com/odoo/odoo.git
ODOO_NIGHTLY_URL=https://nightly.odoo.com/18.0/nightly/tgz/odoo_18.0.latest.tar.gz

APT_UPDATED=
apt_install() {
    command -v apt-get >/dev/null || die "please install $* (no apt-get on this system)"
    info "Installing Debian packages: $*"
    if [ -z "$APT_UPDATED" ]; then
        as_root apt-get update -qq
        APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

is_py311() { "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; }

# --- 1. PostgreSQL ------------------------------------------------------------

start_cluster() {
    command -v pg_lsclusters >/dev/null || die "PostgreSQL is not running; start it (or set PGHOST/PGPORT)"
    local want=${PGPORT:-5432} line ver name port status
    line=$(pg_lsclusters -h | awk -v port="$want" '$3 == port' | head -n1)
    [ -n "$line" ] || line=$(pg_lsclusters -h | head -n1)
    if [ -z "$line" ]; then
        ver=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n1)
        info "Creating and starting PostgreSQL cluster $ver/main"
        as_root pg_createcluster --port="$want" --start "$ver" main
        return
    fi
    read -r ver name port status _ <<<"$line"
    [ "$port" = "$want" ] || warn "PostgreSQL cluster $ver/$name listens on port $port: export PGPORT=$port"
    case $status in
        online*) ;;
        *)
            info "Starting PostgreSQL cluster $ver/$name"
            as_root pg_ctlcluster "$ver" "$name" start
            ;;
    esac
}

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && sudo -u postgres "$@")
    fi
}

setup_postgresql() {
    if ! pg_isready -q 2>/dev/null; then
        if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
            apt_install postgresql
        fi
        start_cluster
        for _ in $(seq 30); do
            pg_isready -q && break
            sleep 1
        done
        pg_isready -q || die "PostgreSQL did not start; see /var/log/postgresql/"
    fi
    local user can_create
    user=$(id -un)
    can_create=$(psql -d postgres -Atqc 'select rolsuper or rolcreatedb from pg_roles where rolname = current_user' 2>/dev/null || true)
    if [ "$can_create" != t ]; then
        info "Creating PostgreSQL superuser role '$user'"
        as_postgres psql -q -c "create role \"$user\" superuser login" 2>/dev/null ||
            as_postgres psql -q -c "alter role \"$user\" superuser login"
        pg_ok || die "still cannot connect to PostgreSQL as '$user'"
    fi
    info "PostgreSQL: ready ($(psql -d postgres -Atqc 'show server_version'), role '$user')"
}

# --- 2. Odoo 18 ---------------------------------------------------------------

is_odoo18_tree() {
    [ -f "$1/odoo/release.py" ] && grep -Eq '^version_info = \(18, ' "$1/odoo/release.py"
}

# Fetch Odoo's official 18.0 source into $ODOO_DOWNLOAD_DIR (reused when present).
download_odoo() {
    local dir=$ODOO_DOWNLOAD_DIR tmp
    if is_odoo18_tree "$dir"; then
        info "Reusing Odoo 18.0 source in $dir" >&2
        echo "$dir"
        return
    fi
    [ ! -e "$dir" ] || die "$dir exists but is not an Odoo 18 source tree; remove it or set ODOO_DOWNLOAD_DIR"
    mkdir -p "$(dirname "$dir")"
    tmp=$(mktemp -d "$dir.part.XXXXXX")
    info "Cloning Odoo 18.0 from $ODOO_GIT_URL (shallow) into $dir" >&2
    if git clone -q --depth 1 --branch 18.0 "$ODOO_GIT_URL" "$tmp/src" >&2; then
        mv "$tmp/src" "$dir"
    else
        warn "git clone failed; trying the nightly tarball $ODOO_NIGHTLY_URL"
        mkdir "$tmp/src"
        if curl -fsSL --connect-timeout 20 -o "$tmp/odoo.tar.gz" "$ODOO_NIGHTLY_URL" &&
            tar -xzf "$tmp/odoo.tar.gz" -C "$tmp/src" --strip-components=1; then
            mv "$tmp/src" "$dir"
        else
            rm -rf "$tmp"
            die "Odoo 18 is not importable by '$PYTHON' and Odoo's official source is not reachable
       ($ODOO_GIT_URL, $ODOO_NIGHTLY_URL).
       Give a local Odoo 18 source tree instead: make setup ODOO_SOURCE=/path/to/odoo"
        fi
    fi
    rm -rf "$tmp"
    echo "$dir"
}

# The package names (and markers) of a requirements file, without versions: the
# versions come from requirements-odoo.txt.
requirement_names() {
    "$PYTHON" - "$1" <<'EOF'
import re
import sys

for line in open(sys.argv[1], encoding="utf-8"):
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith("-"):
        continue
    spec, _, marker = line.partition(";")
    name = re.match(r"[A-Za-z0-9._-]+(\[[^\]]*\])?", spec.strip()).group(0)
    print(f"{name} ; {marker.strip()}" if marker.strip() else name)
EOF
}

# Debian packages needed to build the sdists among Odoo's requirements.
install_build_deps() {
    command -v apt-get >/dev/null || return 0
    local pkgs=() pkg
    for pkg in libpq-dev libldap2-dev libsasl2-dev; do
        dpkg -s "$pkg" >/dev/null 2>&1 || pkgs+=("$pkg")
    done
    command -v gcc >/dev/null || pkgs+=(build-essential)
    "$PYTHON" -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(sysconfig.get_paths()["include"] + "/Python.h"))' ||
        pkgs+=(python3-dev)
    [ ${#pkgs[@]} -eq 0 ] || apt_install "${pkgs[@]}"
}

install_odoo_from() {
    local src tmp site f
    [ -d "$1" ] || die "ODOO_SOURCE=$1: no such directory"
    src=$(cd "$1" && pwd)
    is_odoo18_tree "$src" || die "$src is not an Odoo 18 source tree (no odoo/release.py of version 18)"
    [ -f "$src/requirements.txt" ] || die "$src has no requirements.txt"
    info "Installing Odoo 18 from $src"
    install_build_deps
    tmp=$(mktemp -d)
    if is_py311; then
        # Versions from requirements-odoo.txt. PIP_CONSTRAINT also reaches the
        # isolated build environments, where old sdists need setuptools<70; it
        # replaces pip's configured constraint files, so those are added too.
        requirement_names "$src/requirements.txt" >"$tmp/requirements.txt"
        {
            cat "$ROOT/requirements-odoo.txt"
            echo "setuptools<70"
            for f in $("$PYTHON" -m pip config list 2>/dev/null |
                sed -n "s/^[^=]*\.constraint='\(.*\)'$/\1/p"); do
                [ -f "$f" ] && cat "$f"
            done
        } >"$tmp/constraints.txt"
        PIP_CONSTRAINT="$tmp/constraints.txt" "$PYTHON" -m pip install -r "$tmp/requirements.txt"
    else
        warn "requirements-odoo.txt holds Odoo's pins for Python 3.11; on $("$PYTHON" -V)" \
            "the tree's own requirements.txt is used as is"
        "$PYTHON" -m pip install -r "$src/requirements.txt"
    fi
    rm -rf "$tmp"
    site=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    [ -w "$site" ] || site=$("$PYTHON" -m site --user-site)
    mkdir -p "$site"
    echo "$src" >"$site/odoo-source.pth"
    load_odoo
    [ "$ODOO_MAJOR" = 18 ] || die "Odoo still not importable after installing from $src"
    info "Odoo 18 importable from $src (via $site/odoo-source.pth)"
}

setup_odoo() {
    load_odoo
    if [ "$ODOO_MAJOR" = 18 ]; then
        info "Odoo: $ODOO_VERSION from $ODOO_ROOT"
        [ -z "$ODOO_SOURCE" ] || warn "ODOO_SOURCE ignored: Odoo 18 is already importable"
        return
    fi
    [ -z "$ODOO_MAJOR" ] || die "'$PYTHON' already imports Odoo $ODOO_VERSION from $ODOO_ROOT; this project needs 18"
    local src=$ODOO_SOURCE
    [ -n "$src" ] || src=$(download_odoo)
    install_odoo_from "$src"
}

# --- 3. test and lint tools ---------------------------------------------------

dev_tools_present() {
    "$PYTHON" - "$ROOT/requirements-dev.txt" <<'EOF'
import sys
from importlib.metadata import PackageNotFoundError, version

for line in open(sys.argv[1], encoding="utf-8"):
    name, _, wanted = line.split("#", 1)[0].strip().partition("==")
    try:
        if name and version(name) != wanted:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
EOF
}

setup_dev_tools() {
    if dev_tools_present; then
        info "Test and lint tools: present (requirements-dev.txt)"
        return
    fi
    info "Installing test and lint tools (requirements-dev.txt)"
    local constraints=()
    # Never let them move the versions Odoo runs with.
    is_py311 && constraints=(-c "$ROOT/requirements-odoo.txt")
    "$PYTHON" -m pip install -q -r "$ROOT/requirements-dev.txt" "${constraints[@]}"
}

# --- 4. Chromium --------------------------------------------------------------

setup_chromium() {
    find_chrome >/dev/null || apt_install chromium
    info "Chromium: $(find_chrome)"
}

# Everything present: PostgreSQL reachable with a role that may create databases,
# Odoo 18 importable, the tools at their versions and Chromium.
everything_present() {
    [ "$(psql -d postgres -Atqc 'select rolsuper or rolcreatedb from pg_roles where rolname = current_user' 2>/dev/null)" = t ] ||
        return 1
    load_odoo
    [ "$ODOO_MAJOR" = 18 ] && dev_tools_present && find_chrome >/dev/null
}

cd "$ROOT"
if everything_present; then
    info "Setup: nothing missing (PostgreSQL $(psql -d postgres -Atqc 'show server_version' | cut -d' ' -f1), Odoo $ODOO_VERSION, test and lint tools, Chromium)"
    exit 0
fi
setup_postgresql
setup_odoo
setup_dev_tools
setup_chromium
info "Setup complete"
