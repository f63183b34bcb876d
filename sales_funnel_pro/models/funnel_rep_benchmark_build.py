"""How ``funnel.rep.benchmark`` is built: the totals read per company and window
(funnel_rep_benchmark_data.py), then the figures of the glossary from these
totals, the rows written in two batches. Nothing is read per opportunity."""

import math
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, models
from odoo.tools import SQL

from ..statistics import wilson_interval

DAYS_PER_YEAR = 365.0


def _div(numerator, denominator):
    return numerator / denominator if denominator else None


def _pct(value):
    return None if value is None else round(100.0 * value, 1)


def _flag(settled, low, high, team_rate, min_sample):
    """below / above / in_line / too_few (glossary: Small samples)."""
    if settled < min_sample:
        return "too_few"
    if team_rate is None:
        return "in_line"
    if high < team_rate:
        return "below"
    if low > team_rate:
        return "above"
    return "in_line"


def _shrunk(advanced, settled, team_rate, shrinkage):
    """(k + m·p_team) ÷ (n + m); the measured rate without team rate."""
    if team_rate is None:
        return _div(advanced, settled)
    return _div(advanced + shrinkage * team_rate, settled + shrinkage)


def _shape(actual, expected, first_stage_id, late_stage_ids):
    """Funnel shape of a salesperson (glossary: Funnel shape).

    :param actual: {stage id: open opportunities now}
    :param expected: {stage id: expected open opportunities}
    :return: (deviation 0-1 or None, dry top, late-heavy, {stage id: (a, e)})
    """
    total_actual, total_expected = sum(actual.values()), sum(expected.values())
    if not total_actual or not total_expected:
        return None, False, False, {}
    shares = {
        stage_id: (actual.get(stage_id, 0) / total_actual, value / total_expected)
        for stage_id, value in expected.items()
    }
    for stage_id, count in actual.items():
        shares.setdefault(stage_id, (count / total_actual, 0.0))
    deviation = 0.5 * sum(abs(a - e) for a, e in shares.values())
    a_first, e_first = shares.get(first_stage_id, (0.0, 0.0))
    late = [shares[stage_id] for stage_id in late_stage_ids if stage_id in shares]
    late_heavy = sum(a for a, __ in late) - sum(e for __, e in late) > 0.2
    return deviation, a_first < 0.5 * e_first, late_heavy, shares


class FunnelRepBenchmark(models.Model):
    _inherit = "funnel.rep.benchmark"  # pylint: disable=consider-merging-classes-inherited

    # ------------------------------------------------------------
    # The figures
    # ------------------------------------------------------------

    @api.model
    def _funnel_stages(self):
        """{team id or 0: [open stage ids in pipeline order]} for the teams of
        the stages, 0 for the stages shared by every team."""
        rank = self.env["crm.stage"]._funnel_rank()
        stages = (
            self.env["crm.stage"]
            .sudo()
            .with_context(active_test=False)
            .search_fetch([("is_won", "=", False)], ["team_id"])
        )
        shared = [stage.id for stage in stages if not stage.team_id]
        teams = {0: shared}
        for team in stages.team_id:
            teams[team.id] = [
                stage.id
                for stage in stages
                if not stage.team_id or stage.team_id == team
            ]
        for team_id, ids in teams.items():
            teams[team_id] = sorted(ids, key=rank.get)
        return teams, rank

    @api.model
    def _build_company(self, company, now):
        teams_stages, rank = self._funnel_stages()
        self.env.cr.execute(
            SQL(
                "SELECT DISTINCT COALESCE(team_id, 0) FROM crm_lead "
                "WHERE company_id = %s",
                company.id,
            )
        )
        team_ids = {team_id for (team_id,) in self.env.cr.fetchall()}
        stage_lists = {
            team_id: teams_stages.get(team_id) or teams_stages[0]
            for team_id in team_ids | set(teams_stages)
        }
        first_stages = {team_id: ids[0] for team_id, ids in stage_lists.items() if ids}
        open_now = self._read_open(company, now)
        targets, won_quarter, months_left = self._read_quarter(company, now)
        windows = {
            "short": now - timedelta(days=company.funnel_window_days),
            "long": now - relativedelta(months=company.funnel_window_months),
        }
        written = 0
        for window, date_from in windows.items():
            written += self._build_window(
                company,
                window,
                date_from,
                now,
                stage_lists,
                first_stages,
                open_now,
                (targets, won_quarter, months_left),
            )
        return written

    @api.model
    def _build_window(
        self,
        company,
        window,
        date_from,
        now,
        stage_lists,
        first_stages,
        open_now,
        quarter,
    ):
        length = now - date_from
        cells = self._read_stage_cells(company, date_from, now, first_stages)
        closings = self._read_closings(company, date_from, now)
        previous = self._read_closings(company, date_from - length, date_from)
        before = self._read_closings(
            company, date_from - 2 * length, date_from - length
        )
        new = self._read_new(company, date_from, now)
        new_previous = self._read_new(company, date_from - length, date_from)
        reps = (
            {(t, u) for t, u, __ in cells if u}
            | {(t, u) for t, u in closings if u}
            | {(t, u) for t, u, __ in open_now}
        )
        year_factor = DAYS_PER_YEAR / max(length.total_seconds() / 86400, 1)
        min_sample, shrinkage = company.funnel_min_sample, company.funnel_shrinkage
        base = {
            "company_id": company.id,
            "span": window,
            "date_from": date_from.date(),
            "date_to": now.date(),
            "date_refreshed": now,
        }
        summaries, stage_rows = [], []
        for team_id, user_id in sorted(reps):
            stages = stage_lists.get(team_id) or stage_lists.get(0, [])
            rep = self._rep_summary(
                team_id,
                user_id,
                closings,
                previous,
                before,
                new,
                new_previous,
                open_now,
                stages,
                quarter,
            )
            team = closings.get((team_id, None), {})
            rows = []
            for index, stage_id in enumerate(stages):
                cell = cells.get((team_id, user_id, stage_id))
                team_cell = cells.get((team_id, None, stage_id))
                if not cell:
                    continue
                # the next stage the team's opportunities passed (else: won)
                next_id = next(
                    (
                        later
                        for later in stages[index + 1 :]
                        if (team_id, None, later) in cells
                    ),
                    None,
                )
                next_cell = cells.get((team_id, None, next_id)) if next_id else None
                rows.append(
                    self._stage_figures(
                        cell,
                        team_cell,
                        next_cell,
                        next_id is None,
                        cells.get((team_id, user_id, stages[0]), {}),
                        cells.get((team_id, None, stages[0]), {}),
                        rep["avg_won"] or _div(team.get("won_amount"), team.get("won")),
                        min_sample,
                        shrinkage,
                        year_factor,
                    )
                    | {"stage_id": stage_id, "stage_rank": index}
                )
            self._shape_figures(
                rep, rows, stages, cells, team_id, user_id, open_now, length
            )
            below = [row for row in rows if row["flag"] == "below" and row["impact"]]
            coach = max(below, key=lambda row: row["impact"], default=None)
            if coach:
                coach["is_coach_here"] = True
                rep["values"]["coach_stage_id"] = coach["stage_id"]
            common = {**base, "team_id": team_id or False, "user_id": user_id}
            summaries.append({**common, **rep["values"]})
            stage_rows.append([{**common, **row} for row in rows])
        records = self.sudo().create(summaries)
        lines = []
        for record, rows in zip(records, stage_rows, strict=True):
            lines.extend({**row, "summary_id": record.id} for row in rows)
        self.sudo().create(lines)
        return len(summaries) + len(lines)

    @api.model
    def _stage_figures(
        self,
        cell,
        team_cell,
        next_cell,
        is_last,
        rep_first,
        team_first,
        avg_won,
        min_sample,
        shrinkage,
        year_factor,
    ):
        k, n = cell["advanced"], cell["settled"]
        team_cell = team_cell or cell
        team_k, team_n = team_cell["advanced"] - k, team_cell["settled"] - n
        team_rate = _div(team_k, team_n)
        rate = _div(k, n)
        low, high = wilson_interval(k, n)
        shrunk = _shrunk(k, n, team_rate, shrinkage)
        next_stw = (
            1.0
            if is_last
            else _div(
                (next_cell or {}).get("won", 0), (next_cell or {}).get("closed", 0)
            )
        )
        impact = None
        if team_rate is not None and shrunk is not None and next_stw is not None:
            impact = (
                (team_rate - shrunk)
                * cell["entered"]
                * next_stw
                * (avg_won or 0)
                * year_factor
            )
        return {
            "entered_count": cell["entered"],
            "settled_count": n,
            "advanced_count": k,
            "lost_count": cell["lost"],
            "open_count": cell["open"],
            "conversion_rate": _pct(rate),
            "team_rate": _pct(team_rate),
            "shrunk_rate": _pct(shrunk),
            "gap_points": _pct(shrunk - team_rate)
            if shrunk is not None and team_rate is not None
            else None,
            "wilson_low": _pct(low),
            "wilson_high": _pct(high),
            "flag": _flag(n, low, high, team_rate, min_sample) if n else "too_few",
            "loss_rate": _pct(_div(cell["lost"], n)),
            "team_loss_rate": _pct(_div(team_cell["lost"] - cell["lost"], team_n)),
            "cumulative_rate": _pct(_div(cell["cohort"], rep_first.get("cohort"))),
            "team_cumulative_rate": _pct(
                _div(team_cell["cohort"], team_first.get("cohort"))
            ),
            "median_days": cell["median"],
            "team_median_days": team_cell["median"],
            "team_p80_days": team_cell["p80"],
            "next_stage_to_won": _pct(next_stw),
            "impact": round(impact, 2) if impact is not None else 0.0,
            "is_coach_here": False,
            # what the funnel shape needs, dropped before writing
            "_team_mean_days": team_cell["mean"],
            "_team_cumulative": _div(team_cell["cohort"], team_first.get("cohort")),
        }

    @api.model
    def _rep_summary(
        self,
        team_id,
        user_id,
        closings,
        previous,
        before,
        new,
        new_previous,
        open_now,
        stages,
        quarter,
    ):
        rep = closings.get((team_id, user_id), {})
        team = closings.get((team_id, None), {})

        def without(key):
            return (team.get(key) or 0) - (rep.get(key) or 0)

        win_rate = _div(rep.get("won", 0), rep.get("closed", 0))
        team_win_rate = _div(without("won"), without("closed"))
        avg_won = _div(rep.get("won_amount", 0), rep.get("won", 0))
        team_avg_won = _div(without("won_amount"), without("won"))
        qualified = stages[1:]
        oq = sum(
            count
            for (t, u, s), (count, __, __) in open_now.items()
            if t == team_id and u == user_id and s in qualified
        )
        team_oq_all = sum(
            count
            for (t, u, s), (count, __, __) in open_now.items()
            if t == team_id and s in qualified
        )
        others = {u for (t, u, __) in open_now if t == team_id and u != user_id} | {
            u for (t, u) in closings if t == team_id and u and u != user_id
        }
        team_oq = _div(team_oq_all - oq, len(others))
        cycle, team_cycle = rep.get("cycle"), rep.get("others_cycle")
        velocity = (
            oq * win_rate * avg_won / cycle
            if win_rate is not None and avg_won and cycle
            else None
        )
        team_velocity = (
            team_oq * team_win_rate * team_avg_won / team_cycle
            if team_oq and team_win_rate is not None and team_avg_won and team_cycle
            else None
        )
        prev = previous.get((team_id, user_id), {})
        prev_before = before.get((team_id, user_id), {})
        won_amount = rep.get("won_amount", 0) or 0
        prev_won = prev.get("won_amount", 0) or 0
        count, new_count = new.get((team_id, user_id), (0, 0))
        prev_count, prev_new = new_previous.get((team_id, user_id), (0, 0))
        targets, won_quarter, months_left = quarter
        weighted = sum(
            w for (t, u, __), (__, w, __) in open_now.items() if u == user_id
        )
        values = {
            "won_count": rep.get("won", 0),
            "closed_count": rep.get("closed", 0),
            "win_rate": _pct(win_rate),
            "team_win_rate": _pct(team_win_rate),
            "win_rate_value": _pct(
                _div(rep.get("won_amount", 0), rep.get("closed_amount", 0))
            ),
            "team_win_rate_value": _pct(
                _div(without("won_amount"), without("closed_amount"))
            ),
            "won_amount": won_amount,
            "previous_won_amount": prev_won,
            "avg_won_amount": avg_won or 0.0,
            "team_avg_won_amount": team_avg_won or 0.0,
            "median_cycle_days": cycle,
            "team_median_cycle_days": team_cycle,
            "days_to_loss": rep.get("loss_days"),
            "team_days_to_loss": rep.get("others_loss_days"),
            "open_qualified_count": oq,
            "team_open_qualified": team_oq,
            "velocity": round(velocity, 2) if velocity is not None else 0.0,
            "team_velocity": round(team_velocity, 2) if team_velocity else 0.0,
            "target_amount": targets.get(user_id, 0.0),
            "skill_score": _pct(win_rate),
            "previous_skill_score": _pct(
                _div(prev.get("won", 0), prev.get("closed", 0))
            ),
            "trend_score": _pct(_div(won_amount, won_amount + prev_won)),
            "previous_trend_score": _pct(
                _div(prev_won, prev_won + (prev_before.get("won_amount") or 0))
            ),
            "collaboration_score": _pct(
                _div(rep.get("helped", 0), rep.get("closed", 0))
            ),
            "previous_collaboration_score": _pct(
                _div(prev.get("helped", 0), prev.get("closed", 0))
            ),
            "expansion_score": _pct(_div(new_count, count)),
            "previous_expansion_score": _pct(_div(prev_new, prev_count)),
        }
        return {
            "values": values,
            "avg_won": avg_won,
            "gap": targets.get(user_id, 0.0)
            - (won_quarter.get(user_id) or 0.0)
            - weighted
            if user_id in targets
            else None,
            "months_left": months_left,
        }

    @api.model
    def _shape_figures(
        self, rep, rows, stages, cells, team_id, user_id, open_now, length
    ):
        """Funnel shape and entries needed on the summary, expected open and jam
        on the stage rows; drops the rows' working values."""
        values = rep["values"]
        days = max(length.total_seconds() / 86400, 1)
        entries = (
            (cells.get((team_id, user_id, stages[0])) or {}).get("entered", 0)
            if stages
            else 0
        )
        entry_rate = entries / days
        by_stage = {row["stage_id"]: row for row in rows}
        expected, actual, ages = {}, {}, {}
        for stage_id in stages:
            count, __, age = open_now.get((team_id, user_id, stage_id), (0, 0, None))
            actual[stage_id], ages[stage_id] = count, age
            team_cell = cells.get((team_id, None, stage_id)) or {}
            team_first = cells.get((team_id, None, stages[0])) or {}
            cumulative = _div(team_cell.get("cohort", 0), team_first.get("cohort", 0))
            mean_days = team_cell.get("mean")
            expected[stage_id] = (
                entry_rate * cumulative * mean_days
                if cumulative is not None and mean_days is not None
                else 0.0
            )
        late = stages[math.ceil(len(stages) / 2) :]
        deviation, dry_top, late_heavy, shares = _shape(
            actual, expected, stages[0] if stages else None, late
        )
        jam = None
        for stage_id, (a, e) in shares.items():
            row = by_stage.get(stage_id)
            p80 = (cells.get((team_id, None, stage_id)) or {}).get("p80")
            if a > 1.5 * e and ages.get(stage_id) and p80 and ages[stage_id] > p80:
                if row:
                    row["is_jam"] = True
                jam = jam or stage_id
        for stage_id, row in by_stage.items():
            row["open_now_count"] = actual.get(stage_id, 0)
            row["expected_open"] = expected.get(stage_id, 0.0)
            row.pop("_team_mean_days", None)
            row.pop("_team_cumulative", None)
        values.update(
            shape_deviation=_pct(deviation),
            is_dry_top=dry_top,
            is_late_heavy=late_heavy,
            jam_stage_id=jam or False,
        )
        first_row = cells.get((team_id, None, stages[0])) if stages else None
        stw_first = _div(
            (first_row or {}).get("won", 0), (first_row or {}).get("closed", 0)
        )
        if rep["gap"] is not None and rep["avg_won"] and stw_first:
            needed = max(rep["gap"], 0.0) / (rep["avg_won"] * stw_first)
            values["entries_needed"] = round(needed / max(rep["months_left"], 1), 1)
        else:
            values["entries_needed"] = None
