from datetime import datetime, timedelta

from odoo.addons.sales_funnel_pro.models.crm_lead import LOAD_HISTORY_KEY

from .common import FunnelCommon

# the moment the figures are measured at (tests freeze time there)
NOW = datetime(2025, 6, 30, 12, 0, 0)


def _ago(days, now=NOW):
    return now - timedelta(days=days)


class CapabilityCommon(FunnelCommon):
    """Opportunities with a known stage history, written as the demo writes
    them: the opportunity as it stands today, then its rows.

    ``_now``: the day the stories are told from (tests freeze time there; a
    browser tour tells them from today)."""

    _now = NOW

    @classmethod
    def _deal(cls, user, path, outcome=None, amount=10000.0, name="Deal"):
        """An opportunity of ``user`` that went through ``path``.

        :param path: [(stage, days ago it entered it)], oldest first
        :param outcome: None (open), ("won", days ago) or ("lost", days ago)
        """
        last_stage, created = path[-1][0], path[0][1]

        def _ago(days):
            return cls._now - timedelta(days=days)

        values = {
            "name": name,
            "type": "opportunity",
            "team_id": cls.team.id,
            "user_id": user.id,
            "stage_id": last_stage.id,
            "expected_revenue": amount,
            "probability": 10,
            "date_last_stage_update": _ago(path[-1][1]),
        }
        if outcome and outcome[0] == "won":
            values.update(
                stage_id=cls.won.id, probability=100, date_closed=_ago(outcome[1])
            )
        elif outcome:
            values.update(active=False, probability=0, date_closed=_ago(outcome[1]))
        lead = (
            cls.env["crm.lead"].with_context(**{LOAD_HISTORY_KEY: True}).create(values)
        )
        moments = [(stage, "enter", ago) for stage, ago in path]
        if outcome and outcome[0] == "won":
            moments.append((cls.won, "won", outcome[1]))
        elif outcome:
            moments.append((last_stage, "lost", outcome[1]))
        rows = []
        for index, (stage, event, ago) in enumerate(moments):
            following = moments[index + 1] if index + 1 < len(moments) else None
            row = {
                "lead_id": lead.id,
                "stage_id": stage.id,
                "stage_from_id": moments[index - 1][0].id if index else False,
                "event": event,
                "date_in": _ago(ago),
                "user_id": user.id,
                "team_id": cls.team.id,
                "company_id": cls.company.id,
                "expected_revenue": amount,
                "is_backward": bool(index)
                and stage.sequence < moments[index - 1][0].sequence,
            }
            if following:
                row.update(
                    date_out=_ago(following[2]),
                    days_in_stage=float(ago - following[2]),
                    is_open=False,
                )
            rows.append(row)
        # the creation date is the ORM's: set as the story says
        lead.flush_recordset()
        cls.env.cr.execute(
            "UPDATE crm_lead SET create_date = %s WHERE id = %s",
            [_ago(created), lead.id],
        )
        lead.invalidate_recordset(["create_date"])
        History = cls.env["funnel.stage.history"]
        History.create(rows)
        History._fill_pass_columns()
        return lead

    def _report(self, domain=(), groupby=("stage_id",), user=None):
        """{group key: figures} of the conversion report."""
        Report = self.env["funnel.conversion.report"]
        if user:
            Report = Report.with_user(user)
        aggregates = [
            "entered_count:sum",
            "advanced_count:sum",
            "lost_count:sum",
            "settled_count:sum",
            "open_count:sum",
            "conversion_rate:avg",
            "loss_rate:avg",
            "stage_to_won_rate:avg",
            "median_days:avg",
            "p80_days:avg",
            "wilson_low:avg",
            "wilson_high:avg",
        ]
        names = [spec.split(":")[0] for spec in aggregates]
        result = {}
        size = len(groupby)
        for row in Report._read_group(
            [("team_id", "=", self.team.id), *domain], list(groupby), aggregates
        ):
            key = row[0] if size == 1 else tuple(row[:size])
            result[key] = dict(zip(names, row[size:], strict=True))
        return result
