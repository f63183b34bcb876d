from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from lxml import etree

from odoo import fields
from odoo.exceptions import AccessError
from odoo.osv import expression
from odoo.tests import freeze_time, tagged, users
from odoo.tools import SQL
from odoo.tools.safe_eval import datetime as safe_datetime
from odoo.tools.safe_eval import safe_eval
from odoo.tools.safe_eval import time as safe_time

from .common import FIXTURE_REASON, FunnelCommon

# a Wednesday: "this week" began on Monday 10 June
NOW = "2024-06-12 15:00:00"


@freeze_time(NOW)
class ActivityReportCommon(FunnelCommon):
    """Five opportunities of two reps, with a known activity log (UTC times).

    Sam (``user_salesman``):

    - ``lead_won``, created Mon 03/06 08:00, won: a call on 03/06 at 10:00
      (0.5 h) and a demo on 11/06 at 09:00 (1.5 h);
    - ``lead_lost``, created Tue 04/06 09:00, lost: a call on 04/06 at 13:00 (1 h);
    - ``lead_open``, created Mon 10/06 08:00, open: nothing logged, nothing planned;
    - and a visit to a customer, without opportunity, on Mon 10/06 at 16:00 (2 h).

    Tess (``user_salesman_2``):

    - ``lead_won2``, created Sat 01/06 10:00, won: a visit on 02/06 at 10:00 (3 h),
      a meeting on 10/06 at 11:00 (1.5 h), a call on 12/06 at 09:00 (0.25 h);
    - ``lead_open2``, created Tue 11/06 12:00, open: a call on 12/06 at 10:00
      (0.75 h), and a call planned for 14/06.

    First responses: 2, 4, none, 24 and 22 hours. It is Wednesday 12/06, 15:00:
    this week began on Monday 10/06.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.visit_type = cls.env.ref("sales_funnel_pro.mail_activity_type_visit")
        cls.demo_type = cls.env.ref("sales_funnel_pro.mail_activity_type_demonstration")
        sam, tess = cls.user_salesman, cls.user_salesman_2
        cls.lead_won = cls._create_lead("Sam won", stage=cls.s4, expected_revenue=1000)
        cls.lead_lost = cls._create_lead(
            "Sam lost", stage=cls.s4, expected_revenue=2000
        )
        cls.lead_open = cls._create_lead("Sam open", stage=cls.s2, expected_revenue=400)
        cls.lead_won2 = cls._create_lead(
            "Tess won", stage=cls.s4, user=tess, expected_revenue=3000
        )
        cls.lead_open2 = cls._create_lead(
            "Tess open", stage=cls.s3, user=tess, expected_revenue=600
        )
        cls.leads = (
            cls.lead_won
            | cls.lead_lost
            | cls.lead_open
            | cls.lead_won2
            | cls.lead_open2
        )
        cls._set_create_dates(
            {
                cls.lead_won: datetime(2024, 6, 3, 8, 0),
                cls.lead_lost: datetime(2024, 6, 4, 9, 0),
                cls.lead_open: datetime(2024, 6, 10, 8, 0),
                cls.lead_won2: datetime(2024, 6, 1, 10, 0),
                cls.lead_open2: datetime(2024, 6, 11, 12, 0),
            }
        )
        cls.logs = cls.env["funnel.activity.log"].create(
            [
                cls._log_values(cls.lead_won, cls.call_type, (6, 3, 10), 0.5),
                cls._log_values(cls.lead_won, cls.demo_type, (6, 11, 9), 1.5),
                cls._log_values(cls.lead_lost, cls.call_type, (6, 4, 13), 1.0),
                cls._log_values(cls.lead_won2, cls.visit_type, (6, 2, 10), 3.0),
                cls._log_values(cls.lead_won2, cls.meeting_type, (6, 10, 11), 1.5),
                cls._log_values(cls.lead_won2, cls.call_type, (6, 12, 9), 0.25),
                cls._log_values(cls.lead_open2, cls.call_type, (6, 12, 10), 0.75),
                {
                    "partner_id": cls.partner.id,
                    "user_id": sam.id,
                    "activity_type_id": cls.visit_type.id,
                    "date": datetime(2024, 6, 10, 16, 0),
                    "duration": 2.0,
                },
            ]
        )
        cls.lead_open2.activity_schedule(
            activity_type_id=cls.call_type.id,
            user_id=tess.id,
            date_deadline=date(2024, 6, 14),
        )
        (cls.lead_won | cls.lead_won2).action_set_won()
        cls.lead_lost.action_set_lost()

    @classmethod
    def _set_create_dates(cls, create_dates):
        """Date the opportunities' creation (the ORM writes the transaction's)."""
        cls.env.flush_all()
        for lead, create_date in create_dates.items():
            cls.env.cr.execute(
                SQL(
                    "UPDATE crm_lead SET create_date = %s WHERE id = %s",
                    create_date,
                    lead.id,
                )
            )
        cls.env.invalidate_all()

    @classmethod
    def _log_values(cls, lead, activity_type, when, duration):
        """Values of a log by the salesperson of ``lead``, on (month, day, hour)
        ``when`` of 2024."""
        return {
            "lead_id": lead.id,
            "user_id": lead.user_id.id,
            "activity_type_id": activity_type.id,
            "date": datetime(2024, *when, 0),
            "duration": duration,
        }

    # ------------------------------------------------------------
    # The web client
    # ------------------------------------------------------------

    def _eval_context(self):
        """What the web client evaluates domains and contexts with."""
        return {
            "uid": self.env.uid,
            "context": self.env.context,
            "context_today": lambda: fields.Date.context_today(self.env.user),
            "datetime": safe_datetime,
            "time": safe_time,
            "relativedelta": relativedelta,
        }

    def _search_view_filters(self, model, view_id):
        """The filters of a search view, in groups: the web client or-s the
        filters of one group and and-s the groups.

        :return: list of lists of (name, domain string)
        """
        arch = etree.fromstring(self.env[model].get_view(view_id, "search")["arch"])
        groups, group = [], []
        for node in arch.iter():
            if node.tag == "filter":
                if node.get("domain") and not node.get("date"):
                    group.append((node.get("name"), node.get("domain")))
            elif node.tag in ("separator", "field", "group") and group:
                groups.append(group)
                group = []
        if group:
            groups.append(group)
        return groups

    def _filter_domain(self, model, view_xmlid, name):
        """The domain of the filter ``name`` of a search view, evaluated."""
        view = self.env.ref(view_xmlid)
        for group in self._search_view_filters(model, view.id):
            for filter_name, domain in group:
                if filter_name == name:
                    return safe_eval(domain, self._eval_context())
        raise AssertionError(f"no filter {name} in {view_xmlid}")

    def _action_domain(self, action_xmlid):
        """The domain the web client searches with when the current user opens
        the action: its domain and its default filters."""
        action = self.env["ir.actions.act_window"]._for_xml_id(action_xmlid)
        eval_context = self._eval_context()
        context = safe_eval(action.get("context") or "{}", eval_context)
        domains = [safe_eval(action.get("domain") or "[]", eval_context)]
        search_view_id = action["search_view_id"] and action["search_view_id"][0]
        for group in self._search_view_filters(action["res_model"], search_view_id):
            chosen = [
                safe_eval(domain, eval_context)
                for name, domain in group
                if context.get(f"search_default_{name}")
            ]
            if chosen:
                domains.append(expression.OR(chosen))
        return action, expression.AND(domains)

    def _action_records(self, action_xmlid):
        action, domain = self._action_domain(action_xmlid)
        return self.env[action["res_model"]].search(domain)


@tagged("post_install", "-at_install")
class TestEffortReport(ActivityReportCommon):
    """Effort to outcome: exact figures, access, record rules, query count."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_2 = cls.env["res.company"].create({"name": "Other Lab"})
        # an unassigned opportunity, and one in another company: no logs
        cls.lead_free = cls.env["crm.lead"].create(
            {
                "name": "Nobody's",
                "type": "opportunity",
                "team_id": cls.team.id,
                "stage_id": cls.s1.id,
                "user_id": False,
            }
        )
        cls.lead_company_2 = cls.env["crm.lead"].create(
            {
                "name": "Other company's",
                "type": "opportunity",
                "stage_id": cls.s1.id,
                "user_id": False,
                "team_id": False,
                "company_id": cls.company_2.id,
            }
        )
        cls._set_create_dates(
            {
                cls.lead_free: datetime(2024, 6, 12, 8, 0),
                cls.lead_company_2: datetime(2024, 6, 12, 8, 0),
            }
        )
        # neither a lead nor an archived opportunity that was not lost count
        cls.lead_type_lead = cls.env["crm.lead"].create(
            {"name": "A lead", "type": "lead", "user_id": cls.user_salesman.id}
        )
        cls.lead_archived = cls._create_lead(
            "Archived, not lost", stage=cls.s4, probability=40
        )
        cls.lead_archived.write({"active": False})
        cls.all_leads = (
            cls.leads
            | cls.lead_free
            | cls.lead_company_2
            | cls.lead_type_lead
            | cls.lead_archived
        )

    def _report(self):
        return self.env["funnel.effort.report"]

    def _figures(self, groupby, domain=None):
        """{group: (count, avg activities, sum hours, avg hours, avg first
        response)}, by default of the five opportunities of the fixture."""
        rows = self._report()._read_group(
            domain or [("lead_id", "in", self.leads.ids)],
            groupby,
            [
                "__count",
                "activity_count:avg",
                "hours:sum",
                "hours:avg",
                "first_response_hours:avg",
            ],
        )
        return {tuple(row[: len(groupby)]): tuple(row[len(groupby) :]) for row in rows}

    # ------------------------------------------------------------
    # Rows and figures
    # ------------------------------------------------------------

    def test_rows(self):
        """One row per opportunity, open, won or lost, with its own figures."""
        self.assertEqual(
            (self.lead_archived.active, self.lead_archived.probability), (False, 40)
        )
        self.assertEqual(
            (self.lead_lost.active, self.lead_lost.probability), (False, 0)
        )
        rows = self._report().search([("lead_id", "in", self.all_leads.ids)])
        self.assertEqual(
            rows.lead_id,
            self.leads | self.lead_free | self.lead_company_2,
            "leads and merely archived opportunities are left out",
        )
        self.assertEqual(rows.mapped("id"), rows.lead_id.ids)
        by_lead = {row.lead_id: row for row in rows}
        expected = {
            # lead: status, activities, hours, first response, first activity
            self.lead_won: ("won", 2, 2.0, 2.0, datetime(2024, 6, 3, 10)),
            self.lead_lost: ("lost", 1, 1.0, 4.0, datetime(2024, 6, 4, 13)),
            # no first response yet: empty in the database, 0 on the record
            self.lead_open: ("open", 0, 0.0, 0.0, False),
            self.lead_won2: ("won", 3, 4.75, 24.0, datetime(2024, 6, 2, 10)),
            self.lead_open2: ("open", 1, 0.75, 22.0, datetime(2024, 6, 12, 10)),
            self.lead_free: ("open", 0, 0.0, 0.0, False),
        }
        for lead, values in expected.items():
            row = by_lead[lead]
            self.assertEqual(
                (
                    row.status,
                    row.activity_count,
                    row.hours,
                    row.first_response_hours,
                    row.first_activity_date,
                ),
                values,
                lead.name,
            )
            self.assertEqual(row.user_id, lead.user_id)
            self.assertEqual(row.team_id, lead.team_id)
            self.assertEqual(row.stage_id, lead.stage_id)
            self.assertEqual(row.company_id, lead.company_id)
            self.assertEqual(row.create_date, lead.create_date)
            self.assertEqual(row.expected_revenue, lead.expected_revenue)
        won = by_lead[self.lead_won]
        self.assertEqual(won.stage_id, self.won)
        self.assertEqual(won.date_closed, datetime(2024, 6, 12, 15, 0))
        self.assertEqual(won.company_currency, self.company.currency_id)
        self.assertEqual(by_lead[self.lead_lost].date_closed, won.date_closed)
        self.assertFalse(by_lead[self.lead_open].date_closed)
        self.assertEqual(by_lead[self.lead_open].stage_id, self.s2)

    def test_first_response_never_negative(self):
        """An activity logged as having happened before the opportunity was
        created answers it at once."""
        self.env["funnel.activity.log"].create(
            self._log_values(self.lead_open, self.call_type, (6, 9, 17), 0.5)
        )
        row = self._report().search([("lead_id", "=", self.lead_open.id)])
        self.assertEqual(row.first_response_hours, 0.0)
        self.assertEqual(row.first_activity_date, datetime(2024, 6, 9, 17))
        self.assertEqual((row.activity_count, row.hours), (1, 0.5))

    @users("funnel_manager")
    def test_figures_per_salesperson_and_status(self):
        """Effort to outcome: count, average activities, total and average
        hours, average first response (opportunities without any activity have
        no first response and stay out of its average)."""
        sam, tess = self.user_salesman, self.user_salesman_2
        self.assertEqual(
            self._figures(["user_id", "status"]),
            {
                (sam, "won"): (1, 2.0, 2.0, 2.0, 2.0),
                (sam, "lost"): (1, 1.0, 1.0, 1.0, 4.0),
                (sam, "open"): (1, 0.0, 0.0, 0.0, False),
                (tess, "won"): (1, 3.0, 4.75, 4.75, 24.0),
                (tess, "open"): (1, 1.0, 0.75, 0.75, 22.0),
            },
        )
        self.assertEqual(
            self._figures(["user_id"]),
            {
                (sam,): (3, 1.0, 3.0, 1.0, 3.0),
                (tess,): (2, 2.0, 5.5, 2.75, 23.0),
            },
        )
        self.assertEqual(
            self._figures(["status"]),
            {
                ("won",): (2, 2.5, 6.75, 3.375, 13.0),
                ("lost",): (1, 1.0, 1.0, 1.0, 4.0),
                ("open",): (2, 0.5, 0.75, 0.375, 22.0),
            },
        )
        self.assertEqual(self._figures([]), {(): (5, 1.4, 8.5, 1.7, 13.0)})
        # revenue, per status
        self.assertEqual(
            dict(
                self._report()._read_group(
                    [("lead_id", "in", self.leads.ids)],
                    ["status"],
                    ["expected_revenue:sum"],
                )
            ),
            {"won": 4000.0, "lost": 2000.0, "open": 1000.0},
        )

    @users("funnel_manager")
    def test_figures_follow_new_logs(self):
        """The report reads the log as it is now, pending writes included."""
        self.env["funnel.activity.log"].create(
            self._log_values(self.lead_open, self.demo_type, (6, 12, 14), 1.5)
        )
        self.assertEqual(
            self._figures(["user_id"], [("lead_id", "=", self.lead_open.id)]),
            {(self.user_salesman,): (1, 1.0, 1.5, 1.5, 54.0)},
        )

    # ------------------------------------------------------------
    # First response
    # ------------------------------------------------------------

    @users("funnel_manager")
    def test_first_response_not_answered_yet(self):
        """ "Not Answered Yet": open opportunities without any logged activity
        (the lost one without a log is not waiting for an answer any more)."""
        self.lead_open2.activity_log_ids.sudo().unlink()
        self.lead_lost.activity_log_ids.sudo().unlink()
        domain = self._filter_domain(
            "funnel.effort.report",
            "sales_funnel_pro.funnel_effort_report_view_search",
            "filter_not_answered",
        )
        rows = self._report().search(
            expression.AND([domain, [("lead_id", "in", self.all_leads.ids)]])
        )
        self.assertEqual(
            rows.lead_id, self.lead_open | self.lead_open2 | self.lead_free
        )

    @users("funnel_manager")
    def test_first_response_action(self):
        """Average first response per salesperson, of the opportunities created
        in the last 30 days (since 13/05): Sam (2 and 4 hours, one without
        answer), Tess (24 and 22 hours), the unassigned one not answered."""
        action, domain = self._action_domain(
            "sales_funnel_pro.funnel_effort_report_action_first_response"
        )
        self.assertEqual(action["res_model"], "funnel.effort.report")
        domain = expression.AND([domain, [("lead_id", "in", self.all_leads.ids)]])
        self.assertEqual(
            self._report()._read_group(
                domain, ["user_id"], ["first_response_hours:avg", "__count"]
            ),
            [
                (self.user_salesman, 3.0, 3),
                (self.user_salesman_2, 23.0, 2),
                (self.env["res.users"], False, 1),
            ],
        )
        self._set_create_dates({self.lead_won2: datetime(2024, 5, 12, 23, 0)})
        self.assertEqual(
            self._report()._read_group(
                domain, ["user_id"], ["first_response_hours:avg", "__count"]
            )[1],
            (self.user_salesman_2, 22.0, 1),
        )

    # ------------------------------------------------------------
    # Access
    # ------------------------------------------------------------

    @users("funnel_salesman")
    def test_salesman_sees_own_and_unassigned(self):
        Report = self._report()
        rows = Report.search([("lead_id", "in", self.all_leads.ids)])
        self.assertEqual(
            rows.lead_id,
            self.lead_won | self.lead_lost | self.lead_open | self.lead_free,
        )
        self.assertEqual(
            self._figures(["user_id"]),
            {(self.user_salesman,): (3, 1.0, 3.0, 1.0, 3.0)},
        )
        with self.assertRaises(AccessError):
            Report.browse(self.lead_won2.id).read(["hours"])
        with self.assertRaises(AccessError):
            Report.browse(self.lead_company_2.id).read(["hours"])

    @users("funnel_salesman_2")
    def test_other_salesman_sees_own_and_unassigned(self):
        rows = self._report().search([("lead_id", "in", self.all_leads.ids)])
        self.assertEqual(
            rows.lead_id, self.lead_won2 | self.lead_open2 | self.lead_free
        )
        self.assertEqual(
            self._figures(["user_id", "status"]),
            {
                (self.user_salesman_2, "won"): (1, 3.0, 4.75, 4.75, 24.0),
                (self.user_salesman_2, "open"): (1, 1.0, 0.75, 0.75, 22.0),
            },
        )

    @users("funnel_all_leads", "funnel_manager")
    def test_all_leads_and_manager_see_all_of_their_company(self):
        rows = self._report().search([("lead_id", "in", self.all_leads.ids)])
        self.assertEqual(rows.lead_id, self.leads | self.lead_free)

    @users("funnel_manager")
    def test_manager_in_both_companies(self):
        self.env.user.sudo().company_ids += self.company_2
        Report = self._report().with_context(
            allowed_company_ids=[self.company.id, self.company_2.id]
        )
        rows = Report.search([("lead_id", "in", self.all_leads.ids)])
        self.assertEqual(
            rows.lead_id, self.leads | self.lead_free | self.lead_company_2
        )
        # the company he does not work in now is out of sight
        rows = (
            self._report()
            .with_context(allowed_company_ids=[self.company.id])
            .search([("lead_id", "in", self.all_leads.ids)])
        )
        self.assertEqual(rows.lead_id, self.leads | self.lead_free)

    @users("funnel_salesman", "funnel_manager")
    def test_read_only(self):
        row = self._report().browse(self.lead_open.id)
        for operation in (
            lambda: row.write({"hours": 5.0}),
            lambda: row.unlink(),
            lambda: self._report().create({"hours": 5.0}),
        ):
            with self.assertRaises(AccessError):
                operation()

    @users("funnel_salesman")
    def test_open_lead(self):
        action = self._report().browse(self.lead_open.id).action_open_lead()
        self.assertEqual(
            (action["res_model"], action["res_id"]), ("crm.lead", self.lead_open.id)
        )

    # ------------------------------------------------------------
    # Query count
    # ------------------------------------------------------------

    @users("funnel_salesman", "funnel_manager")
    def test_query_count(self):
        """Reading the report grouped by salesperson and status is one query,
        however many opportunities: 10, then 100."""
        team = self.env["crm.team"].sudo().create({"name": "Benchmark Team"})
        domain = [("team_id", "=", team.id)]
        created = 0
        for count in (10, 100):
            self._create_benchmark_leads(team, count - created)
            created = count
            self.env.invalidate_all()
            # the record rules are cached after the first read
            self._report()._read_group(domain, ["user_id"], ["__count"])
            with self.assertQueryCount(1):
                groups = self._report()._read_group(
                    domain,
                    ["user_id", "status"],
                    ["__count", "activity_count:avg", "hours:avg"],
                )
            self.assertEqual(
                groups,
                [(self.user_salesman, "open", count, 2.0, 2.5)],
            )

    def _create_benchmark_leads(self, team, count):
        """``count`` open opportunities of the salesman, with a call and a demo
        each, created as superuser past the gates."""
        leads = (
            self.env["crm.lead"]
            .sudo()
            .create(
                [
                    {
                        "name": f"Benchmark {index}",
                        "type": "opportunity",
                        "team_id": team.id,
                        "stage_id": self.s4.id,
                        "user_id": self.user_salesman.id,
                        "funnel_waive_reason": FIXTURE_REASON,
                    }
                    for index in range(count)
                ]
            )
        )
        self.env["funnel.activity.log"].sudo().create(
            [
                self._log_values(lead, activity_type, (6, 11, hour), duration)
                for lead in leads
                for activity_type, hour, duration in (
                    (self.call_type, 9, 0.5),
                    (self.demo_type, 10, 2.0),
                )
            ]
        )


@tagged("post_install", "-at_install")
class TestMyWeek(ActivityReportCommon):
    """The rep's week: the actions open what they say, for each rep."""

    @users("funnel_salesman")
    def test_my_hours(self):
        """Sam's hours this week, by day and type: his demo on Tuesday and the
        visit without opportunity on Monday; not last week's call, nor Tess'."""
        logs = self._action_records(
            "sales_funnel_pro.funnel_activity_log_action_my_week"
        )
        self.assertEqual(len(logs), 2)
        self.assertEqual(logs.user_id, self.user_salesman)
        self.assertEqual(
            self.env["funnel.activity.log"]._read_group(
                [("id", "in", logs.ids)],
                ["date:day", "activity_type_id"],
                ["duration:sum"],
            ),
            [
                (datetime(2024, 6, 10), self.visit_type, 2.0),
                (datetime(2024, 6, 11), self.demo_type, 1.5),
            ],
        )

    @users("funnel_salesman_2")
    def test_my_hours_other_salesman(self):
        logs = self._action_records(
            "sales_funnel_pro.funnel_activity_log_action_my_week"
        )
        self.assertEqual(logs.user_id, self.user_salesman_2)
        self.assertEqual(sorted(logs.mapped("duration")), [0.25, 0.75, 1.5])
        self.assertEqual(sum(logs.mapped("duration")), 2.5)

    @users("funnel_salesman")
    def test_my_hours_on_monday_morning(self):
        """On Monday the week starts afresh; on Sunday it still held Monday."""
        action = "sales_funnel_pro.funnel_activity_log_action_my_week"
        with freeze_time("2024-06-16 20:00:00"):
            self.assertEqual(
                sorted(self._action_records(action).mapped("duration")), [1.5, 2.0]
            )
        with freeze_time("2024-06-17 07:00:00"):
            self.assertFalse(self._action_records(action))

    @users("funnel_salesman")
    def test_my_hours_last_week(self):
        domain = self._filter_domain(
            "funnel.activity.log",
            "sales_funnel_pro.funnel_activity_log_view_search_week",
            "filter_last_week",
        )
        logs = self.env["funnel.activity.log"].search(
            expression.AND([domain, [("user_id", "=", self.env.uid)]])
        )
        self.assertEqual(logs.mapped("duration"), [1.0, 0.5])

    @users("funnel_salesman")
    def test_touched_this_week(self):
        """Sam's opportunities with a log since Monday: only the won one (the
        lost one was touched last week, the open one never)."""
        leads = self._action_records("sales_funnel_pro.crm_lead_action_my_week_touched")
        self.assertEqual(leads, self.lead_won)

    @users("funnel_salesman_2")
    def test_touched_this_week_other_salesman(self):
        leads = self._action_records("sales_funnel_pro.crm_lead_action_my_week_touched")
        self.assertEqual(leads, self.lead_won2 | self.lead_open2)

    @users("funnel_salesman")
    def test_no_next_step(self):
        """Sam's open opportunities without a planned activity: the open one;
        won and lost opportunities need no next step."""
        action = "sales_funnel_pro.crm_lead_action_my_week_no_next_step"
        self.assertEqual(self._action_records(action), self.lead_open)
        self.lead_open.activity_schedule(
            activity_type_id=self.call_type.id,
            user_id=self.env.uid,
            date_deadline=date(2024, 6, 13),
        )
        self.assertFalse(self._action_records(action))

    @users("funnel_salesman_2")
    def test_no_next_step_other_salesman(self):
        """Tess' open opportunity has a call planned; once done, it has none."""
        action = "sales_funnel_pro.crm_lead_action_my_week_no_next_step"
        self.assertFalse(self._action_records(action))
        self.lead_open2.activity_ids.action_done()
        self.assertEqual(self._action_records(action), self.lead_open2)
        self.assertEqual(
            self._action_records("sales_funnel_pro.crm_lead_action_my_week_touched"),
            self.lead_won2 | self.lead_open2,
        )

    @users("funnel_manager")
    def test_team_hours(self):
        """The manager's hours per rep and type, over the last four weeks (from
        Monday 20 May), and per stage."""
        logs = self._action_records("sales_funnel_pro.funnel_activity_log_action_team")
        self.assertEqual(len(logs), 8)
        Log = self.env["funnel.activity.log"]
        domain = [("id", "in", logs.ids)]
        sam, tess = self.user_salesman, self.user_salesman_2
        self.assertEqual(
            Log._read_group(domain, ["user_id", "activity_type_id"], ["duration:sum"]),
            [
                (sam, self.call_type, 1.5),
                (sam, self.visit_type, 2.0),
                (sam, self.demo_type, 1.5),
                (tess, self.call_type, 1.0),
                (tess, self.meeting_type, 1.5),
                (tess, self.visit_type, 3.0),
            ],
        )
        # weeks of the graph start on the first day of the user's language:
        # Sunday in English (US)
        self.assertEqual(self.env.user.lang, "en_US")
        self.assertEqual(
            Log._read_group(domain, ["date:week"], ["duration:sum"]),
            [(datetime(2024, 6, 2), 4.5), (datetime(2024, 6, 9), 6.0)],
        )
        self.assertEqual(
            dict(Log._read_group(domain, ["stage_id"], ["duration:sum"])),
            {self.s4: 7.75, self.s3: 0.75, Log.stage_id: 2.0},
        )

    @users("funnel_salesman")
    def test_touched_search_is_one_query(self):
        """The "touched this week" filter is a single query, however many
        opportunities and logs."""
        __, domain = self._action_domain(
            "sales_funnel_pro.crm_lead_action_my_week_touched"
        )
        Lead = self.env["crm.lead"]
        Lead.search(domain)
        with self.assertQueryCount(1):
            self.assertEqual(Lead.search(domain), self.lead_won)
