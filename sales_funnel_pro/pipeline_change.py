"""What the pipeline change report and its wizard share: the period of a
snapshot, and the terms of a domain that every row satisfies. A module of its
own, outside the report and wizard packages: importing it defines no model
(the order in which models are defined is the order in which their tables are
created)."""

from dateutil.relativedelta import relativedelta

from odoo.osv import expression


def top_level_terms(domain):
    """The terms of ``domain`` that every row it selects satisfies: those
    joined by AND at its top level (not under an OR or a NOT)."""
    domain = expression.normalize_domain(domain)

    def parse(index):
        # the top-level terms of the subtree at index, and the index after it
        token = domain[index]
        if token == "&":
            left, index = parse(index + 1)
            right, index = parse(index)
            return left + right, index
        if token in ("|", "!"):
            index += 1
            for __ in range(2 if token == "|" else 1):
                __, index = parse(index)
            return [], index
        return [tuple(token)], index + 1

    return parse(0)[0]


def period_bounds(day):
    """The period of a snapshot taken on ``day``: the first day of its
    quarter, and that of the next quarter."""
    start = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return start, start + relativedelta(months=3)
