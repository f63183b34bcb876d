from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import users
from odoo.tools.sql import index_exists

from odoo.addons.crm.models.crm_lead import Lead as CrmLeadBase

from ..hooks import fill_lead_fields
from .common import FunnelCommon, migration


class TestForecastCategory(FunnelCommon):
    """The forecast category of an opportunity follows its stage (s1, s2
    Pipeline, s3 Best Case, s4 Commit, won Closed) unless its salesperson chose
    another one, which survives stage changes until reset; won is always
    Closed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s3.forecast_category = "best_case"
        cls.s4.forecast_category = "commit"
        # s3 warns and s4 has no gate: moves between them and to won are free
        cls.lead = cls._create_lead("Pressure calibrators", stage=cls.s3)
        cls.lead_other = cls._create_lead(
            "Thermometry lab", stage=cls.s3, user=cls.user_salesman_2
        )
        cls.lead_free = cls._create_lead("Unassigned deal", stage=cls.s3)
        cls.lead_free.user_id = False

    def _open_row(self, lead):
        return (
            self.env["funnel.stage.history"]
            .sudo()
            .search([("lead_id", "=", lead.id), ("is_open", "=", True)])
        )

    def test_follows_stage(self):
        self.assertEqual(self.lead.forecast_category, "best_case")
        self.assertFalse(self.lead.forecast_category_override)
        self.lead.stage_id = self.s4
        self.assertEqual(self.lead.forecast_category, "commit")
        self.lead.stage_id = self.s1
        self.assertEqual(self.lead.forecast_category, "pipeline")
        # a stage's category changes: its opportunities follow
        self.s1.forecast_category = "best_case"
        self.assertEqual(self.lead.forecast_category, "best_case")

    def test_won_is_always_closed(self):
        self.lead.forecast_category = "commit"
        self.lead.stage_id = self.won
        self.assertEqual(self.lead.forecast_category, "closed")
        self.lead_other.action_set_won()
        self.assertEqual(self.lead_other.forecast_category, "closed")
        # no other category on a won opportunity, whoever asks
        with self.assertRaisesRegex(UserError, "always in the Closed"):
            self.lead.forecast_category = "best_case"
        with self.assertRaisesRegex(UserError, "always in the Closed"):
            self.lead_other.forecast_category_override = "pipeline"
        self.assertEqual(self.lead.forecast_category, "closed")
        self.assertFalse(self.lead_other.forecast_category_override)
        # and Closed is only for won ones
        with self.assertRaisesRegex(UserError, "Only won opportunities"):
            self.lead_free.forecast_category = "closed"
        self.assertEqual(self.lead_free.forecast_category, "best_case")

    @users("funnel_salesman")
    def test_salesman_overrides_own(self):
        lead = self.lead.with_env(self.env)
        lead.write({"forecast_category": "commit"})
        self.assertEqual(lead.forecast_category, "commit")
        self.assertEqual(lead.forecast_category_override, "commit")
        lead.forecast_category = "omitted"
        self.assertEqual(lead.forecast_category, "omitted")
        lead.action_reset_forecast_category()
        self.assertFalse(lead.forecast_category_override)
        self.assertEqual(lead.forecast_category, "best_case")

    @users("funnel_salesman")
    def test_salesman_refused_on_others(self):
        # an unassigned opportunity he can read and edit, but does not own
        lead = self.lead_free.with_env(self.env)
        with self.assertRaisesRegex(AccessError, "Unassigned deal"):
            lead.write({"forecast_category": "commit"})
        with self.assertRaises(AccessError):
            lead.write({"forecast_category_override": "omitted"})
        with self.assertRaises(AccessError):
            # nothing of a batch is written when one opportunity is not his
            (self.lead.with_env(self.env) | lead).write({"forecast_category": "commit"})
        lead.invalidate_recordset()
        self.assertEqual(lead.forecast_category, "best_case")
        self.assertFalse(self.lead.with_env(self.env).forecast_category_override)
        # another rep's opportunity: the record rules already hide it
        with self.assertRaises(AccessError):
            self.lead_other.with_env(self.env).forecast_category = "commit"

    @users("funnel_all_leads")
    def test_all_leads_user_refused_on_others(self):
        lead = self.lead_other.with_env(self.env)
        self.assertEqual(lead.forecast_category, "best_case")
        with self.assertRaisesRegex(AccessError, "ask a sales manager"):
            lead.forecast_category = "commit"
        # writing the stage's own category changes nothing: allowed
        lead.forecast_category = "best_case"
        self.assertFalse(lead.forecast_category_override)

    @users("funnel_manager")
    def test_manager_overrides_any(self):
        leads = (self.lead | self.lead_other | self.lead_free).with_env(self.env)
        leads.write({"forecast_category": "commit"})
        self.assertEqual(leads.mapped("forecast_category"), ["commit"] * 3)
        self.assertEqual(leads.mapped("forecast_category_override"), ["commit"] * 3)
        leads.action_reset_forecast_category()
        self.assertEqual(leads.mapped("forecast_category"), ["best_case"] * 3)

    def test_choosing_writes_once(self):
        """Choosing a category for opportunities of two stages (one keeps an
        override, the other follows its stage again) writes them once: the
        override goes with the category, in the same write."""
        lead_s4 = self._create_lead("Commit already", stage=self.s4)
        lead_s4.forecast_category = "best_case"
        self.assertEqual(lead_s4.forecast_category_override, "best_case")
        leads = self.lead | lead_s4
        original = CrmLeadBase.write
        with patch.object(
            CrmLeadBase, "write", autospec=True, side_effect=original
        ) as crm_write:
            leads.write({"forecast_category": "commit"})
            leads.flush_recordset()
        self.assertEqual(crm_write.call_count, 1)
        self.assertEqual(leads.mapped("forecast_category"), ["commit"] * 2)
        self.assertEqual(self.lead.forecast_category_override, "commit")
        self.assertFalse(lead_s4.forecast_category_override)
        self.env.invalidate_all()
        self.assertEqual(self.lead.forecast_category_override, "commit")
        self.assertEqual(self.lead.forecast_category, "commit")

    def test_override_survives_stage_changes(self):
        (self.s1 | self.s2).gate_policy = "none"
        self.lead.with_user(self.user_salesman).forecast_category = "commit"
        self.lead.stage_id = self.s1  # backward
        self.assertEqual(self.lead.forecast_category, "commit")
        self.lead.stage_id = self.s4  # as the kanban drag does
        self.assertEqual(self.lead.forecast_category, "commit")
        self.assertEqual(self.lead.forecast_category_override, "commit")
        self.lead.stage_id = self.s3
        self.assertEqual(self.lead.forecast_category, "commit")
        # lost and restored: still chosen
        self.lead.action_set_lost()
        self.lead.toggle_active()
        self.assertEqual(self.lead.forecast_category, "commit")
        # choosing the stage's own category follows the stage again
        self.lead.forecast_category = "best_case"
        self.assertFalse(self.lead.forecast_category_override)
        self.lead.stage_id = self.s4
        self.assertEqual(self.lead.forecast_category, "commit")
        self.assertFalse(self.lead.forecast_category_override)
        self.lead.stage_id = self.s2
        self.assertEqual(self.lead.forecast_category, "pipeline")

    def test_batch_with_different_stages(self):
        lead_s4 = self._create_lead("Negotiated", stage=self.s4)
        leads = self.lead | lead_s4
        leads.write({"forecast_category": "commit"})
        self.assertEqual(leads.mapped("forecast_category"), ["commit", "commit"])
        # s4 is Commit itself: that one simply follows its stage
        self.assertEqual(self.lead.forecast_category_override, "commit")
        self.assertFalse(lead_s4.forecast_category_override)
        # a move and a category at once: compared with the new stage
        self.lead.write({"stage_id": self.s1.id, "forecast_category": "pipeline"})
        self.assertFalse(self.lead.forecast_category_override)
        self.assertEqual(self.lead.forecast_category, "pipeline")

    def test_create_with_category(self):
        lead = self._create_lead(
            "Chosen at once", stage=self.s3, forecast_category="commit"
        )
        self.assertEqual(lead.forecast_category_override, "commit")
        same = self._create_lead(
            "Stage's own", stage=self.s3, forecast_category="best_case"
        )
        self.assertFalse(same.forecast_category_override)
        # without a stage given, the default stage decides
        default = self.env["crm.lead"].create(
            {
                "name": "Default stage",
                "type": "opportunity",
                "team_id": self.team.id,
                "user_id": self.user_salesman.id,
                "forecast_category": "omitted",
            }
        )
        self.assertEqual(default.forecast_category, "omitted")
        self.assertEqual(default.forecast_category_override, "omitted")
        # a salesman may not create another rep's opportunity with a category
        with self.assertRaises(AccessError):
            self.env["crm.lead"].with_user(self.user_salesman).create(
                {
                    "name": "For Tess",
                    "type": "opportunity",
                    "team_id": self.team.id,
                    "stage_id": self.s3.id,
                    "user_id": False,
                    "forecast_category": "commit",
                }
            )

    def test_history_stores_lead_category(self):
        self.assertEqual(self._open_row(self.lead).forecast_category, "best_case")
        self.lead.forecast_category = "omitted"
        self.lead.stage_id = self.s4
        self.assertEqual(self._open_row(self.lead).forecast_category, "omitted")
        self.lead.stage_id = self.won
        self.assertEqual(self._open_row(self.lead).forecast_category, "closed")
        self.lead_other.forecast_category = "commit"
        self.lead_other.action_set_lost()
        row = self._open_row(self.lead_other)
        self.assertEqual((row.event, row.forecast_category), ("lost", "commit"))

    def test_backfill_uses_lead_category(self):
        self.lead.forecast_category = "commit"
        History = self.env["funnel.stage.history"]
        History.search([("lead_id", "in", (self.lead | self.lead_other).ids)]).unlink()
        History._backfill_from_tracking()
        self.assertEqual(self._open_row(self.lead).forecast_category, "commit")
        self.assertEqual(self._open_row(self.lead_other).forecast_category, "best_case")

    def test_upgrade_fills_categories_in_sql(self):
        self.lead.forecast_category = "commit"
        won = self._create_lead("Won deal", stage=self.won)
        self.env.flush_all()
        # the column is added with Pipeline for all
        self.env.cr.execute(
            "UPDATE crm_lead SET forecast_category = 'pipeline' WHERE id IN %s",
            [(self.lead.id, self.lead_other.id, won.id)],
        )
        migration("18.0.1.2.0").fill_forecast_category(self.env)
        self.assertEqual(self.lead.forecast_category, "commit")
        self.assertEqual(self.lead_other.forecast_category, "best_case")
        self.assertEqual(won.forecast_category, "closed")

    def test_install_fills_stored_fields_in_one_update(self):
        """After install, one UPDATE fills the category, the next step, the last
        touch and the quiet date, and writes each row once at most."""
        self.lead.forecast_category = "commit"
        won = self._create_lead("Won deal", stage=self.won)
        self.lead.activity_schedule(
            "mail.mail_activity_data_call",
            date_deadline=fields.Date.today() - timedelta(days=2),
            user_id=self.user_salesman.id,
        )
        call = self.lead_other.activity_schedule(
            "mail.mail_activity_data_call", user_id=self.user_salesman.id
        )
        call.action_feedback("Reached the buyer")
        expected = {
            lead: (
                lead.forecast_category,
                lead.next_activity_state,
                lead.last_touch_date,
                lead.quiet_since,
            )
            for lead in (self.lead, self.lead_other, won)
        }
        self.assertEqual(expected[self.lead][:2], ("commit", "overdue"))
        self.assertTrue(expected[self.lead_other][2])
        self.env.flush_all()
        # as the columns are added: Pipeline, none, empty
        leads = (self.lead, self.lead_other, won)
        self.env.cr.execute(
            """UPDATE crm_lead SET forecast_category = 'pipeline',
                   next_activity_state = 'none', last_touch_date = NULL,
                   quiet_since = NULL
             WHERE id IN %s""",
            [tuple(lead.id for lead in leads)],
        )
        written = fill_lead_fields(self.env)
        # the three rows reset, once each; the others were right
        self.assertEqual(written, 3)
        for lead in leads:
            self.assertEqual(
                (
                    lead.forecast_category,
                    lead.next_activity_state,
                    lead.last_touch_date,
                    lead.quiet_since,
                ),
                expected[lead],
            )
        # nothing left to fill: no row written again
        self.assertEqual(fill_lead_fields(self.env), 0)
        # the forecast's indexes, dropped during the fill, are built again
        for name in self.env["crm.lead"]._funnel_forecast_indexes():
            self.assertTrue(index_exists(self.env.cr, name), name)

    def test_change_is_tracked(self):
        # the set-up created the opportunities untracked: start a new request
        self.env.flush_all()
        self.env.cr.precommit.clear()
        lead = self.lead.with_context(tracking_disable=False)
        lead.with_user(self.user_salesman).forecast_category = "commit"
        self.env.flush_all()
        self.env.cr.precommit.run()
        tracking = lead.message_ids.tracking_value_ids.filtered(
            lambda t: t.field_id.name == "forecast_category"
        )
        self.assertEqual(len(tracking), 1)
        self.assertEqual(tracking.old_value_char, "Best Case")
        self.assertEqual(tracking.new_value_char, "Commit")
        self.assertEqual(
            tracking.mail_message_id.author_id, self.user_salesman.partner_id
        )
        # a move that changes the category is tracked too
        lead.stage_id = self.s1
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.assertFalse(
            lead.message_ids.tracking_value_ids.filtered(
                lambda t: t.field_id.name == "forecast_category"
            )
            - tracking,
            "the chosen category survived the move: nothing to track",
        )
        lead.action_reset_forecast_category()
        self.env.flush_all()
        self.env.cr.precommit.run()
        last = (
            lead.message_ids.tracking_value_ids.filtered(
                lambda t: t.field_id.name == "forecast_category"
            )
            - tracking
        )
        self.assertEqual(
            (last.old_value_char, last.new_value_char), ("Commit", "Pipeline")
        )
