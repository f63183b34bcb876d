from contextlib import contextmanager
from datetime import date

from odoo.modules.migration import load_script
from odoo.modules.module import get_module_path
from odoo.tests import TransactionCase

from odoo.addons.mail.tests.common import mail_new_test_user

# the reason with which the fixtures start opportunities past the gates
FIXTURE_REASON = "Already far along when the test began"


def migration(version):
    """The post-migration script of the addon's ``version`` (e.g. "18.0.1.2.0"),
    as a module, so that a test calls its functions."""
    path = f"{get_module_path('sales_funnel_pro')}/migrations/{version}/post-migrate.py"
    return load_script(path, f"sales_funnel_pro_post_migrate_{version}")


class FunnelCommon(TransactionCase):
    """A small funnel the tests can reason about exactly.

    Users
    -----
    - ``user_salesman``: own documents only (sees his own and unassigned ones);
    - ``user_salesman_2``: own documents only, another rep of the same team;
    - ``user_all_leads``: sees all documents, no configuration;
    - ``user_manager``: sales manager (configuration, waivers).

    Stages (shared by every team, in this order)
    --------------------------------------------
    ======== ===== ========= ===================================================
    stage    seq   gate      required exit criteria
    ======== ===== ========= ===================================================
    s1       101   block     c1_budget (checklist), c1_partner (field partner_id)
    s2       102   block     c2_needs (checklist), c2_meeting (activity Meeting ×1)
    s3       103   warn      c3_quote (checklist)
    s4       104   none      c4_terms (checklist)
    won      105   (won)     none
    ======== ===== ========= ===================================================

    s1 also has an optional checklist item ``c1_optional`` that never gates.
    Existing stages and opportunities of the database are put aside so that only
    these stages take part in the tests.
    """

    @contextmanager
    def assertRaisesRegex(self, expected_exception, expected_regex):
        """As ``assertRaises``: the error rolls back what was written before it
        (a constraint raises after the write), as the request would."""
        with self.assertRaises(expected_exception) as context:
            yield context
        self.assertRegex(str(context.exception), expected_regex)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.user_salesman = mail_new_test_user(
            cls.env,
            login="funnel_salesman",
            name="Sam Salesman",
            email="sam@example.com",
            groups="sales_team.group_sale_salesman",
        )
        cls.user_salesman_2 = mail_new_test_user(
            cls.env,
            login="funnel_salesman_2",
            name="Tess Salesman",
            email="tess@example.com",
            groups="sales_team.group_sale_salesman",
        )
        cls.user_all_leads = mail_new_test_user(
            cls.env,
            login="funnel_all_leads",
            name="Lea All Leads",
            email="lea@example.com",
            groups="sales_team.group_sale_salesman_all_leads",
        )
        cls.user_manager = mail_new_test_user(
            cls.env,
            login="funnel_manager",
            name="Max Manager",
            email="max@example.com",
            groups="sales_team.group_sale_manager",
        )
        cls.team = cls.env["crm.team"].create({"name": "Funnel Team"})
        cls.partner = cls.env["res.partner"].create({"name": "Calibration Lab Ltd"})

        # put the stages of the database after ours, and out of the way
        cls.env["crm.stage"].search([]).write(
            {"team_id": cls.env["crm.team"].create({"name": "Elsewhere"}).id}
        )
        Stage = cls.env["crm.stage"]
        cls.s1 = Stage.create({"name": "S1 Start", "sequence": 101, "win_rate": 10})
        cls.s2 = Stage.create({"name": "S2 Needs", "sequence": 102, "win_rate": 25})
        cls.s3 = Stage.create(
            {"name": "S3 Quote", "sequence": 103, "win_rate": 50, "gate_policy": "warn"}
        )
        cls.s4 = Stage.create(
            {"name": "S4 Terms", "sequence": 104, "win_rate": 75, "gate_policy": "none"}
        )
        cls.won = Stage.create({"name": "S5 Won", "sequence": 105, "is_won": True})

        cls.meeting_type = cls.env.ref("mail.mail_activity_data_meeting")
        cls.call_type = cls.env.ref("mail.mail_activity_data_call")
        Criterion = cls.env["funnel.stage.criterion"]
        cls.c1_budget = Criterion.create(
            {"stage_id": cls.s1.id, "name": "Budget identified", "sequence": 1}
        )
        cls.c1_partner = Criterion.create(
            {
                "stage_id": cls.s1.id,
                "name": "Customer set",
                "kind": "field",
                "field_id": cls.env["ir.model.fields"]
                ._get("crm.lead", "partner_id")
                .id,
                "sequence": 2,
            }
        )
        cls.c1_optional = Criterion.create(
            {
                "stage_id": cls.s1.id,
                "name": "Competitors known",
                "required": False,
                "sequence": 3,
            }
        )
        cls.c2_needs = Criterion.create(
            {"stage_id": cls.s2.id, "name": "Needs documented"}
        )
        cls.c2_meeting = Criterion.create(
            {
                "stage_id": cls.s2.id,
                "name": "Demo held",
                "kind": "activity",
                "activity_type_ids": cls.meeting_type.ids,
                "min_count": 1,
            }
        )
        cls.c3_quote = Criterion.create(
            {"stage_id": cls.s3.id, "name": "Quotation sent"}
        )
        cls.c4_terms = Criterion.create({"stage_id": cls.s4.id, "name": "Terms agreed"})

    # ------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------

    @classmethod
    def _create_lead(cls, name="Opportunity", stage=None, user=None, **values):
        """Create an opportunity of the test team, in ``stage`` (default s1), owned
        by ``user`` (default the salesman).

        Past s1, it starts in ``stage`` past the gates, as a sales manager may
        start it with a reason: the unmet criteria of the stages before are
        waived (see test_gate_create.py). Pass ``funnel_waive_reason=None`` to
        have it judged instead.
        """
        if stage and stage != cls.s1:
            values.setdefault("funnel_waive_reason", FIXTURE_REASON)
        return cls.env["crm.lead"].create(
            {
                "name": name,
                "type": "opportunity",
                "team_id": cls.team.id,
                "stage_id": (stage or cls.s1).id,
                "user_id": (user or cls.user_salesman).id,
                **values,
            }
        )

    def _other_company_user(self, login, groups):
        """Another company, and a user of it alone in ``groups``; returns both."""
        other = self.env["res.company"].create({"name": "Other Calibration Co."})
        user = mail_new_test_user(
            self.env,
            login=login,
            groups=groups,
            company_id=other.id,
            company_ids=[(6, 0, other.ids)],
        )
        return other, user

    def _other_company_deal(self, **values):
        """Another company, an all-leads salesperson of it alone, and their
        opportunity of 300 closing on 29 March 2024; returns the three."""
        other, rep = self._other_company_user(
            "funnel_other_rep", "sales_team.group_sale_salesman_all_leads"
        )
        lead = self.env["crm.lead"].create(
            {
                "name": "Other company's deal",
                "type": "opportunity",
                "company_id": other.id,
                "user_id": rep.id,
                "expected_revenue": 300,
                "date_deadline": date(2024, 3, 29),
                **values,
            }
        )
        return other, rep, lead

    def _tick(self, lead, *criteria):
        """Tick the checklist ``criteria`` of ``lead`` as its salesperson."""
        checks = lead.check_ids.filtered(lambda c: c.criterion_id in criteria)
        self.assertEqual(
            len(checks), len(criteria), "a check exists for each criterion"
        )
        checks.with_user(lead.user_id or self.env.user).action_mark_met()

    def _meet_s1(self, lead):
        lead.partner_id = self.partner
        self._tick(lead, self.c1_budget)

    def _done_activity(self, lead, activity_type):
        """Schedule an activity of ``activity_type`` on ``lead`` and mark it done."""
        activity = lead.activity_schedule(
            activity_type_id=activity_type.id, user_id=lead.user_id.id or self.env.uid
        )
        activity.action_done()

    def _checks(self, lead):
        """{criterion: state} of the checks of ``lead``."""
        return {check.criterion_id: check.state for check in lead.check_ids}
