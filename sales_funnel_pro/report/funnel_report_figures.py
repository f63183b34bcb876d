"""Figures of a report computed from the totals of each group.

A report declares, per field, how its figure is computed from sums (``_figures``):
the pivot then shows at every level (cell, row, column, total) the figure of the
group's totals, not an average of the rows' figures. The same declaration gives
the figure of one row of the view (``_figure_row_sql``), so that a row and a group
of one row agree.

Operands are column names (the group's sum of the column; on a row, the column) or
other figures.
"""

from odoo import api, fields, models
from odoo.models import parse_read_group_spec
from odoo.tools import SQL

from ..statistics import WILSON_Z


class Figure:
    """How a figure is computed from the totals of a group. ``aggregates``: the
    aggregate functions of the pivot that it answers (None: any)."""

    aggregates = None

    def to_sql(self, total, column):
        """The figure in SQL; ``total(name)`` is the total of a column, and
        ``column(name)`` the column itself (its values in the group)."""
        raise NotImplementedError

    @staticmethod
    def operand_sql(operand, total, column):
        if isinstance(operand, Figure):
            return operand.to_sql(total, column)
        return total(operand)


class Total(Figure):
    """The sum of a column, 0 when it has no value in the group."""

    aggregates = ("sum",)

    def __init__(self, column):
        self.column = column

    def to_sql(self, total, column):
        return total(self.column)


class Count(Figure):
    """The number of rows of the group (1 on a row): a column that is 1 on every
    row, added up without reading it."""

    aggregates = ("sum",)

    def to_sql(self, total, column):
        if total is column:
            return SQL("1")
        return SQL("COUNT(*)")


class Plus(Figure):
    """The sum of its operands, and minus its ``minus`` operands: a count that
    is the sum or the remainder of others, added up from theirs."""

    aggregates = ("sum",)

    def __init__(self, *operands, minus=()):
        self.operands, self.minus = operands, minus

    def to_sql(self, total, column):
        terms = [self.operand_sql(term, total, column) for term in self.operands]
        value = SQL(" + ").join(terms)
        for term in self.minus:
            value = SQL("%s - %s", value, self.operand_sql(term, total, column))
        return SQL("(%s)", value)


class Ratio(Figure):
    """100 × numerator ÷ denominator, in percent; empty when the denominator is
    0. ``digits``: rounded to so many decimals (numeric), else a float."""

    def __init__(self, numerator, denominator, digits=None):
        self.numerator, self.denominator, self.digits = numerator, denominator, digits

    def to_sql(self, total, column):
        value = SQL(
            "(100.0 * %s / NULLIF(%s, 0))",
            self.operand_sql(self.numerator, total, column),
            self.operand_sql(self.denominator, total, column),
        )
        return _rounded(value, self.digits)


class Difference(Figure):
    """minuend − each subtrahend; empty when the minuend is 0 (nothing to measure
    against, such as a gap without target)."""

    def __init__(self, minuend, *subtrahends):
        self.minuend, self.subtrahends = minuend, subtrahends

    def to_sql(self, total, column):
        minuend = self.operand_sql(self.minuend, total, column)
        return SQL(
            "(CASE WHEN %s <> 0 THEN %s END)",
            minuend,
            SQL(" - ").join(
                [minuend]
                + [self.operand_sql(term, total, column) for term in self.subtrahends]
            ),
        )


class Accuracy(Figure):
    """Forecast accuracy, in percent: 100 × (1 − |forecast − actual| ÷ actual),
    floored at 0 (a forecast that misses by more than the actual scores 0; its
    bias tells by how much); empty when the actual is 0."""

    def __init__(self, forecast, actual, digits=1):
        self.forecast, self.actual, self.digits = forecast, actual, digits

    def to_sql(self, total, column):
        forecast = self.operand_sql(self.forecast, total, column)
        actual = self.operand_sql(self.actual, total, column)
        value = SQL(
            "(CASE WHEN %s <> 0 THEN 100 * GREATEST(1 - ABS(%s - %s) / %s, 0) END)",
            actual,
            forecast,
            actual,
            actual,
        )
        return _rounded(value, self.digits)


class Bias(Figure):
    """Forecast bias, in percent: 100 × (forecast − actual) ÷ actual; above 0 the
    forecast was too high; empty when the actual is 0."""

    def __init__(self, forecast, actual, digits=1):
        self.forecast, self.actual, self.digits = forecast, actual, digits

    def to_sql(self, total, column):
        actual = self.operand_sql(self.actual, total, column)
        value = SQL(
            "(100 * (%s - %s) / NULLIF(%s, 0))",
            self.operand_sql(self.forecast, total, column),
            actual,
            actual,
        )
        return _rounded(value, self.digits)


class GroupTarget(Figure):
    """The target of a group: its team targets when it has any, plus the targets
    of salespeople for months their team has no target of (``covered``: the
    salespeople's targets of months their team has one); else its salespeople's
    targets. A team's month so counts its team target when it has one, else the
    sum of its salespeople's, and nothing is counted twice."""

    def __init__(
        self,
        team="team_target_amount",
        salespeople="target_amount",
        covered="covered_target_amount",
    ):
        self.team, self.salespeople, self.covered = team, salespeople, covered

    def to_sql(self, total, column):
        team, salespeople, covered = (
            self.operand_sql(operand, total, column)
            for operand in (self.team, self.salespeople, self.covered)
        )
        return SQL(
            "(CASE WHEN %s <> 0 THEN %s + %s - %s ELSE %s END)",
            team,
            team,
            salespeople,
            covered,
            salespeople,
        )


class PerSnapshot(Figure):
    """The average per snapshot date of a total: the total ÷ the number of
    snapshot dates of the group, so that what every snapshot sees (the actual of
    a period) is not added up once per snapshot; 0 without snapshot date.
    ``row_type``: only the snapshot dates of the rows of that type count."""

    aggregates = ("sum",)

    def __init__(self, operand, row_type=None, date="snapshot_date"):
        self.operand, self.row_type, self.date = operand, row_type, date

    def to_sql(self, total, column):
        dates = column(self.date)
        if self.row_type:
            dates = SQL(
                "CASE WHEN %s = %s THEN %s END",
                column("row_type"),
                self.row_type,
                dates,
            )
        return SQL(
            "COALESCE(%s / NULLIF(COUNT(DISTINCT %s), 0), 0)",
            self.operand_sql(self.operand, total, column),
            dates,
        )


def percent_field(string, help_text):
    """The field of a figure in percent, computed from the totals of each group
    (the pivot asks for its average, the report answers with the figure)."""
    return fields.Float(
        string=string, digits=(16, 1), aggregator="avg", readonly=True, help=help_text
    )


def _rounded(value, digits):
    if digits is None:
        return value
    return SQL("ROUND((%s)::numeric, %s)", value, digits)


class FunnelReportFigures(models.AbstractModel):
    _name = "funnel.report.figures"
    _description = "Report Figures From Group Totals"

    # {field name: Figure}: the fields whose aggregate is their figure computed
    # from the totals of the group
    _figures = {}
    # True: the pivot's and graph's groups by many2one are grouped by ids and put
    # in order afterwards (see _read_group)
    _group_by_ids = False

    # ------------------------------------------------------------
    # Groups ordered by their records, grouped by ids
    # ------------------------------------------------------------

    @api.model
    def _read_group(
        self,
        domain,
        groupby=(),
        aggregates=(),
        having=(),
        offset=0,
        limit=None,
        order=None,
    ):
        # Groups by a many2one (salesperson, team, stage ...) are ordered as its
        # model orders its records. For that the ORM joins the model to every row
        # of the report and groups by its order columns too: PostgreSQL then
        # sorts all the rows, and does not aggregate them in parallel. When the
        # groups are ordered as grouped and not limited (the pivot and the
        # graph), they are grouped by ids and sorted here instead.
        groupby = list(groupby)
        many2one = any(
            spec in self._fields and self._fields[spec].type == "many2one"
            for spec in groupby
        )
        if (
            not self._group_by_ids
            or limit
            or offset
            or not many2one
            or order != ",".join(groupby)
        ):
            return super()._read_group(
                domain, groupby, aggregates, having, offset, limit, order
            )
        rows = super()._read_group(domain, groupby, aggregates, having)
        return sorted(rows, key=self._group_sort_key(groupby, rows))

    def _group_sort_key(self, groupby, rows):
        """The key sorting ``rows`` as the ORM orders groups by ``groupby``:
        many2one groups as their model orders its records (one search per
        many2one), the others by value; empty groups last."""
        ranks = {}
        for index, spec in enumerate(groupby):
            field = self._fields.get(spec)
            if field and field.type == "many2one":
                records = self.env[field.comodel_name].union(
                    *(row[index] for row in rows)
                )
                ordered = (
                    records.sudo()
                    .with_context(active_test=False)
                    .search([("id", "in", records.ids)])
                )
                ranks[index] = {
                    record_id: rank for rank, record_id in enumerate(ordered.ids)
                }
        booleans = {
            index
            for index, spec in enumerate(groupby)
            if spec in self._fields and self._fields[spec].type == "boolean"
        }

        def sort_key(row):
            key = []
            for index in range(len(groupby)):
                value = row[index]
                if index in ranks:
                    rank = ranks[index].get(value.id, len(ranks[index]))
                    key.append((0, rank) if value else (1, 0))
                elif index in booleans or (value is not None and value is not False):
                    key.append((0, value))
                else:
                    key.append((1, 0))
            return key

        return sort_key

    # ------------------------------------------------------------
    # Figures
    # ------------------------------------------------------------

    def _figure_row_sql(self, fname, alias):
        """The figure ``fname`` of one row, in SQL on the columns of ``alias``
        (a figure of columns: a per-snapshot average has no meaning on a row)."""

        def column(name):
            return SQL.identifier(alias, name)

        return self._figures[fname].to_sql(column, column)

    def _read_group_select(self, aggregate_spec, query):
        fname, __, func = parse_read_group_spec(aggregate_spec)
        figure = self._figures.get(fname)
        if figure is None or (figure.aggregates and func not in figure.aggregates):
            return super()._read_group_select(aggregate_spec, query)

        def column(name):
            return self._field_to_sql(self._table, name, query)

        def total(name):
            # the columns are empty on the rows they are not about
            return SQL("COALESCE(SUM(%s), 0)", column(name))

        return figure.to_sql(total, column)


class Percentile(Figure):
    """The ``fraction`` percentile (0.5: the median) of a column's values in the
    group (``percentile_cont``, empty values left out); on a row, its value.

    The values of each group are gathered (``array_agg``) and sorted apart: an
    ordered-set aggregate in the grouped query itself would make PostgreSQL sort
    all the rows of the report by the groups first, where gathering lets it hash
    them."""

    def __init__(self, column, fraction, digits=1):
        self.column, self.fraction, self.digits = column, fraction, digits

    def to_sql(self, total, column):
        values = column(self.column)
        if total is column:
            return values
        value = SQL(
            "(SELECT percentile_cont(%s) WITHIN GROUP (ORDER BY v)"
            " FROM unnest(array_agg(%s) FILTER (WHERE %s IS NOT NULL)) AS v)",
            self.fraction,
            values,
            values,
        )
        return _rounded(value, self.digits)


class Wilson(Figure):
    """A bound of the Wilson 95 % interval of the rate successes ÷ trials, in
    percent: ``side`` -1 for the lower bound, +1 for the upper one; empty without
    trials. See ``wilson_interval``."""

    def __init__(self, successes, trials, side, digits=1):
        self.successes, self.trials = successes, trials
        self.side, self.digits = side, digits

    def to_sql(self, total, column):
        k = SQL("(%s)::float", self.operand_sql(self.successes, total, column))
        n = SQL("NULLIF((%s)::float, 0)", self.operand_sql(self.trials, total, column))
        z2 = WILSON_Z**2
        value = SQL(
            "100 * ((%(k)s / %(n)s + %(z2)s / (2 * %(n)s)) + %(side)s * %(z)s"
            " * sqrt(GREATEST(%(k)s / %(n)s * (1 - %(k)s / %(n)s) / %(n)s"
            " + %(z2)s / (4 * %(n)s * %(n)s), 0))) / (1 + %(z2)s / %(n)s)",
            k=k,
            n=n,
            z=WILSON_Z,
            z2=z2,
            side=self.side,
        )
        return _rounded(value, self.digits)
