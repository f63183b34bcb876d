"""One measured run of an operation, rolled back, and the comparison of the
same operation on stock and on the addon, runs interleaved."""

import statistics
import threading
import time

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL


class Sample:
    """One run of an operation: wall time, CPU time of this process (the Python
    side of the server), number and wall time of the SQL queries."""

    def __init__(self, wall, cpu, queries, sql, result):
        self.wall, self.cpu, self.queries, self.sql = wall, cpu, queries, sql
        self.result = result


class Measure:
    """Medians of the samples of one operation on one database."""

    def __init__(self, samples):
        self.samples = samples
        self.time = statistics.median(s.wall for s in samples)
        self.cpu = statistics.median(s.cpu for s in samples)
        self.queries = statistics.median(s.queries for s in samples)
        self.sql = statistics.median(s.sql for s in samples)

    def part(self, name):
        """Median of a part of a composite operation (the kanban load)."""
        return statistics.median(s.result[name] for s in self.samples)


class Side:
    """One database being measured, with the users' environments."""

    def __init__(self, label, registry, context):
        self.label = label
        self.cr = registry.cursor()
        user_context = {
            "lang": "en_US",
            "tz": "UTC",
            "allowed_company_ids": [context["company"]],
        }
        self.manager = api.Environment(self.cr, context["manager"], user_context)
        self.rep = api.Environment(self.cr, context["rep"], user_context)
        self.root = api.Environment(self.cr, SUPERUSER_ID, {})

    def table_size(self, table):
        """Size on disk of a table, in MB (without its indexes)."""
        self.cr.execute(SQL("SELECT pg_relation_size(%s)", table))
        return self.cr.fetchone()[0] / 2**20

    def close(self):
        self.cr.rollback()
        self.cr.close()


def run_once(side, operation, setup=None):
    """Run ``operation`` once on ``side`` and roll its transaction back."""
    if setup:
        setup()
    thread = threading.current_thread()
    thread.query_count, thread.query_time = 0, 0.0
    wall, cpu = time.perf_counter(), time.process_time()
    result = operation()
    sample = Sample(
        time.perf_counter() - wall,
        time.process_time() - cpu,
        thread.query_count,
        thread.query_time,
        result,
    )
    del thread.query_count, thread.query_time
    side.cr.rollback()
    return sample


def compare(sides, make_operation, repeat, setup=None, warmup=1):
    """Measure the same operation on each side, runs interleaved (ABBA...) so
    that the load of the machine weighs the same on every side.

    :param make_operation: side -> callable running the operation once
    :return: list of Measure, one per side
    """
    operations = [make_operation(side) for side in sides]
    samples = [[] for __ in sides]
    for run in range(warmup + repeat):
        order = list(range(len(sides)))
        if run % 2:
            order.reverse()
        for index in order:
            sample = run_once(
                sides[index], operations[index], setup and setup(sides[index])
            )
            if run >= warmup:
                samples[index].append(sample)
    return [Measure(side_samples) for side_samples in samples]


def flush(env):
    """What the end of a request does before COMMIT: flush, pre-commit hooks
    (mail tracking), and the flush of what they wrote."""
    env.cr.flush()
    env.flush_all()
