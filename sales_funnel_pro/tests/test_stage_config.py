from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import users

from .common import FunnelCommon


class TestStageConfig(FunnelCommon):
    """Stage configuration: funnel fields of ``crm.stage`` and exit criteria.

    Every bad configuration is refused with a ``ValidationError`` that names the
    stage or the criterion, and nothing is written (checked by re-reading from the
    database). Criteria and the gate fields of stages are for sales managers.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner_email_field = cls.env["ir.model.fields"]._get(
            "res.partner", "email"
        )
        cls.lead_phone_field = cls.env["ir.model.fields"]._get("crm.lead", "phone")

    def _reread(self, records):
        """Drop the cache so that the next reads come from the database."""
        self.env.flush_all()
        records.invalidate_recordset()
        return records

    def _stage_count(self, name):
        return self.env["crm.stage"].search_count([("name", "=", name)])

    def _criterion_count(self, name):
        return (
            self.env["funnel.stage.criterion"]
            .with_context(active_test=False)
            .search_count([("name", "=", name)])
        )

    # ------------------------------------------------------------
    # Defaults and computed values
    # ------------------------------------------------------------

    def test_defaults_new_stage(self):
        stage = self.env["crm.stage"].create({"name": "Fresh stage"})
        self._reread(stage)
        self.assertEqual(stage.forecast_category, "pipeline")
        self.assertEqual(stage.gate_policy, "block")
        self.assertEqual(stage.win_rate, 0.0)
        self.assertEqual(stage.rotting_days, 0)
        self.assertEqual(stage.criterion_count, 0)
        self.assertFalse(stage.template_key)

    def test_defaults_won_stage(self):
        """A won stage weighs 100 % and is forecast as closed."""
        self.assertEqual(self.won.win_rate, 100.0)
        self.assertEqual(self.won.forecast_category, "closed")

        stage = self.env["crm.stage"].create({"name": "Signed", "is_won": True})
        self._reread(stage)
        self.assertEqual(stage.win_rate, 100.0)
        self.assertEqual(stage.forecast_category, "closed")

        # turning a stage without criteria into a won stage does the same
        later = self.env["crm.stage"].create(
            {"name": "Later", "win_rate": 60, "forecast_category": "commit"}
        )
        later.is_won = True
        self._reread(later)
        self.assertEqual(later.win_rate, 100.0)
        self.assertEqual(later.forecast_category, "closed")
        # and back: a stage that is not won is not forecast as closed
        later.is_won = False
        self._reread(later)
        self.assertEqual(later.forecast_category, "pipeline")

    def test_defaults_criterion(self):
        criterion = self.env["funnel.stage.criterion"].create(
            {"stage_id": self.s3.id, "name": "Reference visit offered"}
        )
        self._reread(criterion)
        self.assertEqual(criterion.kind, "checklist")
        self.assertTrue(criterion.required)
        self.assertTrue(criterion.active)
        self.assertEqual(criterion.min_count, 1)
        self.assertFalse(criterion.template_key)

    def test_win_rate_bounds_accepted(self):
        stages = self.env["crm.stage"].create(
            [{"name": "Zero", "win_rate": 0}, {"name": "Full", "win_rate": 100}]
        )
        self._reread(stages)
        self.assertEqual(stages.mapped("win_rate"), [0.0, 100.0])

    def test_criterion_count(self):
        self.assertEqual(self.s1.criterion_count, 3)
        self.assertEqual(self.s2.criterion_count, 2)
        self.assertEqual(self.s3.criterion_count, 1)
        self.assertEqual(self.won.criterion_count, 0)

        self.env["funnel.stage.criterion"].create(
            {"stage_id": self.s1.id, "name": "Timeline known"}
        )
        self.assertEqual(self.s1.criterion_count, 4)
        # moving a criterion to another stage moves its count
        self.c1_budget.stage_id = self.s2
        self.assertEqual(self.s1.criterion_count, 3)
        self.assertEqual(self.s2.criterion_count, 3)
        self._reread(self.s1 | self.s2)
        self.assertEqual(self.s1.criterion_count, 3)
        self.assertEqual(self.s2.criterion_count, 3)

    def test_criterion_count_ignores_archived(self):
        self.assertEqual(self.s1.criterion_count, 3)
        self.c1_optional.active = False
        self.assertEqual(self.s1.criterion_ids, self.c1_budget | self.c1_partner)
        self.assertEqual(self.s1.criterion_count, 2)
        self.c1_optional.active = True
        self.assertEqual(self.s1.criterion_count, 3)

    # ------------------------------------------------------------
    # Bad stage configuration
    # ------------------------------------------------------------

    def test_win_rate_out_of_range_on_create(self):
        for win_rate in (-1, 100.5):
            with self.subTest(win_rate=win_rate):
                name = f"Bad rate {win_rate}"
                with self.assertRaises(ValidationError) as caught:
                    self.env["crm.stage"].create({"name": name, "win_rate": win_rate})
                self.assertIn(name, str(caught.exception))
                self.assertIn("0 and 100", str(caught.exception))
                self.assertEqual(self._stage_count(name), 0)

    def test_win_rate_out_of_range_on_write(self):
        for win_rate in (-1, 100.5):
            with self.subTest(win_rate=win_rate):
                with self.assertRaises(ValidationError) as caught:
                    self.s2.write({"win_rate": win_rate})
                self.assertIn("S2 Needs", str(caught.exception))
                self.assertIn("0 and 100", str(caught.exception))
                self.assertEqual(self._reread(self.s2).win_rate, 25.0)

    def test_negative_rotting_days(self):
        with self.assertRaises(ValidationError) as caught:
            self.env["crm.stage"].create({"name": "Rots backwards", "rotting_days": -1})
        self.assertIn("Rots backwards", str(caught.exception))
        self.assertIn("rotting days", str(caught.exception))
        self.assertEqual(self._stage_count("Rots backwards"), 0)

        self.s1.rotting_days = 14
        with self.assertRaises(ValidationError) as caught:
            self.s1.write({"rotting_days": -3})
        self.assertIn("S1 Start", str(caught.exception))
        self.assertEqual(self._reread(self.s1).rotting_days, 14)

    # ------------------------------------------------------------
    # Bad criteria
    # ------------------------------------------------------------

    def test_field_criterion_without_field(self):
        with self.assertRaises(ValidationError) as caught:
            self.env["funnel.stage.criterion"].create(
                {"stage_id": self.s2.id, "name": "Phone known", "kind": "field"}
            )
        self.assertIn("Phone known", str(caught.exception))
        self.assertIn("field of the opportunity", str(caught.exception))
        self.assertEqual(self._criterion_count("Phone known"), 0)

        # turning a checklist item into a field criterion needs a field too
        with self.assertRaises(ValidationError) as caught:
            self.c1_budget.write({"kind": "field"})
        self.assertIn("Budget identified", str(caught.exception))
        self.assertEqual(self._reread(self.c1_budget).kind, "checklist")

        # emptying the field of a field criterion
        with self.assertRaises(ValidationError) as caught:
            self.c1_partner.write({"field_id": False})
        self.assertIn("Customer set", str(caught.exception))
        self._reread(self.c1_partner)
        self.assertEqual(self.c1_partner.field_id.name, "partner_id")
        self.assertEqual(self.c1_partner.field_id.model, "crm.lead")

    def test_field_criterion_with_field_of_another_model(self):
        with self.assertRaises(ValidationError) as caught:
            self.env["funnel.stage.criterion"].create(
                {
                    "stage_id": self.s2.id,
                    "name": "Partner email",
                    "kind": "field",
                    "field_id": self.partner_email_field.id,
                }
            )
        self.assertIn("Partner email", str(caught.exception))
        self.assertEqual(self._criterion_count("Partner email"), 0)

        with self.assertRaises(ValidationError) as caught:
            self.c1_partner.write({"field_id": self.partner_email_field.id})
        self.assertIn("Customer set", str(caught.exception))
        self.assertEqual(self._reread(self.c1_partner).field_id.name, "partner_id")

        # a field of the opportunity is fine
        self.c1_partner.field_id = self.lead_phone_field
        self.assertEqual(self._reread(self.c1_partner).field_id, self.lead_phone_field)

    def test_activity_criterion_without_type(self):
        with self.assertRaises(ValidationError) as caught:
            self.env["funnel.stage.criterion"].create(
                {"stage_id": self.s3.id, "name": "Call done", "kind": "activity"}
            )
        self.assertIn("Call done", str(caught.exception))
        self.assertIn("activity type", str(caught.exception))
        self.assertEqual(self._criterion_count("Call done"), 0)

        with self.assertRaises(ValidationError) as caught:
            self.c2_meeting.write({"activity_type_ids": [Command.clear()]})
        self.assertIn("Demo held", str(caught.exception))
        self.assertEqual(
            self._reread(self.c2_meeting).activity_type_ids, self.meeting_type
        )

        with self.assertRaises(ValidationError) as caught:
            self.c3_quote.write({"kind": "activity"})
        self.assertIn("Quotation sent", str(caught.exception))
        self.assertEqual(self._reread(self.c3_quote).kind, "checklist")

    def test_activity_criterion_count_below_one(self):
        for min_count in (0, -2):
            with self.subTest(min_count=min_count):
                name = f"Calls {min_count}"
                with self.assertRaises(ValidationError) as caught:
                    self.env["funnel.stage.criterion"].create(
                        {
                            "stage_id": self.s3.id,
                            "name": name,
                            "kind": "activity",
                            "activity_type_ids": self.call_type.ids,
                            "min_count": min_count,
                        }
                    )
                self.assertIn(name, str(caught.exception))
                self.assertIn("minimum count", str(caught.exception))
                self.assertEqual(self._criterion_count(name), 0)

        with self.assertRaises(ValidationError) as caught:
            self.c2_meeting.write({"min_count": 0})
        self.assertIn("Demo held", str(caught.exception))
        self.assertEqual(self._reread(self.c2_meeting).min_count, 1)

    def test_criterion_on_won_stage(self):
        with self.assertRaises(ValidationError) as caught:
            self.env["funnel.stage.criterion"].create(
                {"stage_id": self.won.id, "name": "Invoice sent"}
            )
        self.assertIn("S5 Won", str(caught.exception))
        self.assertEqual(self._criterion_count("Invoice sent"), 0)
        self.assertFalse(self._reread(self.won).criterion_ids)

        # through the stage form (one2many) as well
        with self.assertRaises(ValidationError) as caught:
            self.won.write(
                {"criterion_ids": [Command.create({"name": "Invoice sent"})]}
            )
        self.assertIn("S5 Won", str(caught.exception))
        self.assertEqual(self._criterion_count("Invoice sent"), 0)

        # moving an existing criterion to the won stage
        with self.assertRaises(ValidationError) as caught:
            self.c3_quote.write({"stage_id": self.won.id})
        self.assertIn("S5 Won", str(caught.exception))
        self.assertEqual(self._reread(self.c3_quote).stage_id, self.s3)

    def test_stage_with_criteria_turned_won(self):
        with self.assertRaises(ValidationError) as caught:
            self.s1.write({"is_won": True})
        self.assertIn("S1 Start", str(caught.exception))
        self.assertIn("won stage", str(caught.exception))
        self._reread(self.s1)
        self.assertFalse(self.s1.is_won)
        self.assertEqual(self.s1.win_rate, 10.0)
        self.assertEqual(self.s1.forecast_category, "pipeline")
        self.assertEqual(
            self.s1.criterion_ids, self.c1_budget | self.c1_partner | self.c1_optional
        )

        # a new won stage created with criteria at once
        with self.assertRaises(ValidationError):
            self.env["crm.stage"].create(
                {
                    "name": "Won with criteria",
                    "is_won": True,
                    "criterion_ids": [Command.create({"name": "Invoice sent"})],
                }
            )
        self.assertEqual(self._stage_count("Won with criteria"), 0)
        self.assertEqual(self._criterion_count("Invoice sent"), 0)

    # ------------------------------------------------------------
    # Access: configuration is for managers
    # ------------------------------------------------------------

    @users("funnel_salesman", "funnel_all_leads")
    def test_salesman_cannot_configure(self):
        Criterion = self.env["funnel.stage.criterion"]
        stage = self.s1.with_env(self.env)
        criterion = self.c1_budget.with_env(self.env)

        # reading the configuration is fine: the pipeline needs it
        self.assertEqual(stage.gate_policy, "block")
        self.assertEqual(stage.criterion_count, 3)
        self.assertEqual(criterion.name, "Budget identified")

        with self.assertRaises(AccessError):
            Criterion.create({"stage_id": self.s1.id, "name": "Rep's own criterion"})
        with self.assertRaises(AccessError):
            criterion.write({"required": False})
        with self.assertRaises(AccessError):
            criterion.unlink()
        for values in (
            {"gate_policy": "none"},
            {"win_rate": 90},
            {"rotting_days": 365},
            {"forecast_category": "commit"},
            {"criterion_ids": [Command.create({"name": "Rep's own criterion"})]},
        ):
            with self.subTest(values=values), self.assertRaises(AccessError):
                stage.write(values)

        self.assertEqual(self._criterion_count("Rep's own criterion"), 0)
        self.c1_budget.invalidate_recordset()
        self.assertTrue(self.c1_budget.exists())
        self.assertTrue(self.c1_budget.required)
        self._reread(self.s1)
        self.assertEqual(self.s1.gate_policy, "block")
        self.assertEqual(self.s1.win_rate, 10.0)
        self.assertEqual(self.s1.rotting_days, 0)
        self.assertEqual(self.s1.forecast_category, "pipeline")

    @users("funnel_manager")
    def test_manager_configures(self):
        stage = self.s1.with_env(self.env)
        criterion = self.env["funnel.stage.criterion"].create(
            {"stage_id": stage.id, "name": "Timeline known", "guidance": "A date."}
        )
        stage.write(
            {
                "gate_policy": "warn",
                "win_rate": 15,
                "rotting_days": 10,
                "forecast_category": "best_case",
            }
        )
        self.c1_optional.with_env(self.env).write({"required": True})
        self.c4_terms.with_env(self.env).unlink()

        self._reread(self.s1)
        self.assertEqual(self.s1.gate_policy, "warn")
        self.assertEqual(self.s1.win_rate, 15.0)
        self.assertEqual(self.s1.rotting_days, 10)
        self.assertEqual(self.s1.forecast_category, "best_case")
        self.assertEqual(
            self.s1.criterion_ids,
            self.c1_budget | self.c1_partner | self.c1_optional | criterion,
        )
        self.assertTrue(self._reread(self.c1_optional).required)
        self.assertFalse(self.c4_terms.exists())

    @users("funnel_manager")
    def test_manager_configures_field_criterion(self):
        """A sales manager (not an administrator) picks the opportunity field of
        a field criterion, as the stage form lets him."""
        criterion = self.env["funnel.stage.criterion"].create(
            {
                "stage_id": self.s2.id,
                "name": "Phone known",
                "kind": "field",
                "field_id": self.lead_phone_field.id,
            }
        )
        # the field picker of the form finds the opportunity's fields
        found = self.env["ir.model.fields"].name_search(
            "Phone", [("model", "=", "crm.lead"), ("store", "=", True)]
        )
        self.assertIn(self.lead_phone_field.id, [field_id for field_id, __ in found])
        # the form shows the field by its name
        field_id, field_label = criterion.read(["field_id"])[0]["field_id"]
        self.assertEqual(field_id, self.lead_phone_field.id)
        self.assertIn("Phone", field_label)
        self.c1_partner.with_env(self.env).write({"field_id": self.lead_phone_field.id})
        self._reread(self.c1_partner | criterion)
        self.assertEqual(self.c1_partner.sudo().field_id, self.lead_phone_field)
        self.assertEqual(criterion.sudo().kind, "field")

        # and gets the same validation as an administrator
        with self.assertRaises(ValidationError) as caught:
            self.env["funnel.stage.criterion"].create(
                {
                    "stage_id": self.s2.id,
                    "name": "Partner email",
                    "kind": "field",
                    "field_id": self.partner_email_field.id,
                }
            )
        self.assertIn("Partner email", str(caught.exception))
        self.assertEqual(self._criterion_count("Partner email"), 0)

    @users("funnel_manager")
    def test_manager_bad_configuration_refused(self):
        """Managers get the same validation as everybody else."""
        with self.assertRaises(ValidationError):
            self.s2.with_env(self.env).write({"win_rate": 101})
        with self.assertRaises(ValidationError):
            self.env["funnel.stage.criterion"].create(
                {"stage_id": self.s2.id, "name": "No type", "kind": "activity"}
            )
        self.assertEqual(self._reread(self.s2).win_rate, 25.0)
        self.assertEqual(self._criterion_count("No type"), 0)
