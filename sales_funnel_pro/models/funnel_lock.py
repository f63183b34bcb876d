"""Scheduled jobs that two workers may run at once (two cron workers, or the
cron and the same work started by hand): each takes a transaction-level
advisory lock first, and the second one skips instead of doing the work again.

The lock is taken by the first statement of the job, before its transaction
reads anything, so that the worker that gets it once the other one has
committed sees what that one wrote. The unique constraints of the tables stay
the last guard (one snapshot per company and day, one rate per stage and team,
one log per meeting).
"""

import logging

from odoo.tools import SQL

_logger = logging.getLogger(__name__)

# the first key of the addon's advisory locks; the second one names the job
LOCK_SPACE = 7_230_113


def try_lock(env, job):
    """Take the lock of ``job`` until the end of the transaction.

    :param job: the name of the job, e.g. its model
    :return: False when another transaction holds it, which is running the job
    """
    env.cr.execute(
        SQL("SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))", LOCK_SPACE, job)
    )
    locked = env.cr.fetchone()[0]
    if not locked:
        _logger.info("%s: running in another transaction, skipped", job)
    return locked
