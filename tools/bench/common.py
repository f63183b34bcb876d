"""What every part of the benchmark uses: names, the progress log, the Odoo
processes and the databases."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import closing

import psycopg2

import odoo
from odoo.modules.registry import Registry

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ADDON = "sales_funnel_pro"
STOCK = "crm"
# The benchmark drops and creates its databases: their names start with one of
# these, so that no other database is ever dropped.
DB_PREFIXES = ("funnel_bench", "bench_")

_started = time.perf_counter()


def log(message):
    """Progress on stderr; the table goes to stdout."""
    elapsed = time.perf_counter() - _started
    sys.stderr.write(f"[{elapsed:7.1f}s] {message}\n")
    sys.stderr.flush()


def odoo_addons_paths():
    """The folders of Odoo's own addons (those holding ``crm``) and odoo-bin, of
    the Odoo that Python imports."""
    odoo_root = os.path.dirname(os.path.dirname(os.path.abspath(odoo.__file__)))
    paths = [
        path
        for path in (
            os.path.join(odoo_root, "odoo", "addons"),
            os.path.join(odoo_root, "addons"),
        )
        if os.path.isdir(os.path.join(path, STOCK))
    ]
    return paths, os.path.join(odoo_root, "odoo-bin")


def is_bench_database(db):
    """Whether ``db`` is named as a benchmark database (see DB_PREFIXES)."""
    return db.startswith(DB_PREFIXES)


def snapshot_addon(args):
    """Copy the addon as it is now and benchmark that copy, so that edits made
    to the working tree while the benchmark runs do not mix two versions."""
    folder = tempfile.mkdtemp(prefix="funnel_bench_addons_")
    shutil.copytree(
        os.path.join(ROOT, ADDON),
        os.path.join(folder, ADDON),
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    args.addons_path = f"{args.addons_path},{folder}"
    return folder


def addon_revision():
    """The git revision of the working tree, ``-dirty`` when the addon's folder
    has local changes (changes elsewhere, to the benchmark say, do not count)."""

    def git(*arguments):
        return subprocess.run(
            ["git", "-C", ROOT, *arguments],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    try:
        revision = git("describe", "--always")
        changed = git("status", "--porcelain", "--", ADDON)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{revision}-dirty" if changed else revision


def configure_odoo(args):
    odoo.tools.config.parse_config(
        ["--addons-path", args.addons_path, "--log-level", "warn"]
    )


def run_odoo(args, db, *options):
    """Run odoo-bin on ``db`` until its modules are loaded; return its duration."""
    with tempfile.NamedTemporaryFile(
        "w+", prefix="funnel_bench_", suffix=".log", delete=False
    ) as output:
        command = [
            sys.executable,
            args.odoo_bin,
            "--database",
            db,
            "--addons-path",
            args.addons_path,
            "--log-level",
            "warn",
            "--stop-after-init",
            *options,
        ]
        start = time.perf_counter()
        result = subprocess.run(command, stdout=output, stderr=subprocess.STDOUT)
        duration = time.perf_counter() - start
    if result.returncode:
        with open(output.name) as lines:
            sys.stderr.write(lines.read()[-5000:])
        sys.exit(f"error: {' '.join(command)} failed, see {output.name}")
    with open(output.name) as lines:
        errors = [line for line in lines if " ERROR " in line or " CRITICAL " in line]
    if errors:
        sys.stderr.write("".join(errors[-20:]))
        sys.exit(f"error: odoo-bin logged errors, see {output.name}")
    os.unlink(output.name)
    return duration


def database_exists(db):
    return db in odoo.service.db.list_dbs(force=True)


def drop_database(db):
    Registry.delete(db)
    odoo.sql_db.close_db(db)
    if database_exists(db):
        odoo.service.db.exp_drop(db)


def maintain(db, *statements):
    """Run ``statements`` (VACUUM ...) outside of any transaction."""
    odoo.sql_db.close_db(db)
    __, info = odoo.sql_db.connection_info_for(db)
    with closing(psycopg2.connect(**info)) as connection:
        connection.autocommit = True
        with connection.cursor() as cr:
            for statement in statements:
                cr.execute(statement)


def vacuum_analyze(db):
    """VACUUM ANALYZE, as autovacuum would eventually."""
    maintain(db, "VACUUM ANALYZE")


def compact_leads(db):
    """Rewrite crm_lead and its indexes compactly (VACUUM FULL), then VACUUM
    ANALYZE it (VACUUM FULL leaves the visibility map empty)."""
    maintain(db, "VACUUM FULL crm_lead", "VACUUM ANALYZE crm_lead")
