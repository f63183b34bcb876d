"""The Odoo server of the load run: prefork workers and a cron worker, on
127.0.0.1 only, serving both databases; and what its log says."""

import datetime
import os
import re
import signal
import socket
import subprocess
import sys
import time

import requests
from bench.common import log

START_TIMEOUT = 120  # seconds to wait for the server to answer
# the log lines of odoo.service.model.retrying
RETRY = re.compile(r" INFO (\S+) odoo\.service\.model: (\w+), \d+ tries left")
GAVE_UP = re.compile(r" INFO (\S+) odoo\.service\.model: (\w+), maximum number")
ENTRY = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ ")
CONCURRENCY = re.compile(
    r"^ERROR: (could not serialize access|deadlock detected|"
    r"could not obtain lock)",
    re.MULTILINE,
)
# the request lines of werkzeug at INFO, with Odoo's figures of the request:
# queries, seconds in SQL, seconds otherwise (Python, once a worker took it)
REQUEST = re.compile(
    r" INFO (\S+) werkzeug: .*\"POST (\S+) HTTP/[\d.]+\" (\d+) - "
    r"(\d+) ([\d.]+) ([\d.]+)"
)
PROBLEM = re.compile(r"^\S+ \S+ \d+ (ERROR|CRITICAL) (\S+) (\S+): (.*)$")


def free_ports():
    """A free port of 127.0.0.1 whose next port is free too."""
    for __ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    sys.exit("error: no two free ports next to each other on 127.0.0.1")


class Server:
    """``odoo-bin`` with ``--workers`` HTTP workers and ``--max-cron-threads``
    cron workers, its log in ``logfile``."""

    def __init__(self, args, databases, logfile):
        self.args, self.logfile = args, logfile
        if not args.port:
            args.port = free_ports()
        self.url = f"http://127.0.0.1:{args.port}"
        self.command = [
            sys.executable,
            args.odoo_bin,
            "--addons-path",
            args.addons_path,
            "--database",
            ",".join(databases),
            "--db-filter",
            "^({})$".format("|".join(re.escape(db) for db in databases)),
            "--no-database-list",
            "--http-interface",
            "127.0.0.1",
            "--http-port",
            str(args.port),
            "--gevent-port",
            str(args.port + 1),
            "--workers",
            str(args.workers),
            "--max-cron-threads",
            str(args.cron_workers),
            "--limit-time-real",
            "600",
            "--limit-time-cpu",
            "300",
            "--logfile",
            logfile,
            "--log-level",
            "warn",
            # the retries of serialization failures are logged at INFO
            "--log-handler",
            "odoo.service.model:INFO",
            "--log-handler",
            "odoo.http:WARNING",
            # each request with its queries, SQL time and other time
            "--log-handler",
            "werkzeug:INFO",
            *args.server_options,
        ]
        self.process = None

    def __enter__(self):
        log(
            f"starting Odoo on {self.url}: {self.args.workers} workers, "
            f"{self.args.cron_workers} cron worker(s)"
        )
        self.process = subprocess.Popen(
            self.command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.stderr.write(self.tail())
                sys.exit(f"error: Odoo stopped at start, see {self.logfile}")
            try:
                requests.get(self.url + "/web/webclient/version_info", timeout=5)
            except requests.RequestException:
                time.sleep(0.5)
                continue
            return self
        self.stop()
        sys.exit(f"error: Odoo did not answer within {START_TIMEOUT}s")

    def __exit__(self, *exc_info):
        self.stop()

    def stop(self):
        """Stop the server and its workers (its own process group)."""
        if not self.process or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        log("Odoo stopped")

    def tail(self, size=5000):
        try:
            with open(self.logfile) as lines:
                return lines.read()[-size:]
        except OSError:
            return ""


def entries(logfile):
    """The entries of the log: a line that starts with a date and the lines that
    follow it up to the next one (a query, a traceback)."""
    entry = []
    with open(logfile, errors="replace") as lines:
        for text in lines:
            if ENTRY.match(text) and entry:
                yield entry
                entry = []
            entry.append(text.rstrip("\n"))
    if entry:
        yield entry


def measured(head, db, windows):
    """Whether the log entry ``head`` of ``db`` is within a measured window."""
    at = datetime.datetime.strptime(head[:23], "%Y-%m-%d %H:%M:%S,%f")
    return any(
        db == window_db and start <= at <= end for window_db, start, end in windows
    )


def read_log(logfile, windows):
    """What the server's log says, per database: the retries of concurrency
    failures (serialization failures, deadlocks) by kind, the requests that
    gave up after the last retry, the requests of the measured ``windows``
    ([(db, start, end)], local time as in the log) by call (count, queries, SQL
    and other seconds), and the ERROR and CRITICAL entries other than
    the queries that failed on a concurrency failure (PostgreSQL refused them,
    Odoo rolls back and retries; the retries are counted)."""
    retries, gave_up, problems, calls = {}, {}, {}, {}
    for entry in entries(logfile):
        head = entry[0]
        match = REQUEST.search(head)
        if match and measured(head, match[1], windows):
            call = calls.setdefault((match[1], match[2].split("/", 4)[-1]), [0] * 4)
            call[0] += 1
            call[1] += int(match[4])
            call[2] += float(match[5])
            call[3] += float(match[6])
            continue
        match = RETRY.search(head)
        if match:
            key = (match[1], match[2])
            retries[key] = retries.get(key, 0) + 1
            continue
        match = GAVE_UP.search(head)
        if match:
            key = (match[1], match[2])
            gave_up[key] = gave_up.get(key, 0) + 1
            continue
        match = PROBLEM.match(head)
        if not match:
            continue
        text = "\n".join(entry)
        if " odoo.sql_db: bad query:" in head and CONCURRENCY.search(text):
            continue
        problems.setdefault(match[2], []).append(" | ".join(entry)[:400])
    return {
        "retries": retries,
        "gave_up": gave_up,
        "problems": problems,
        "calls": calls,
    }
