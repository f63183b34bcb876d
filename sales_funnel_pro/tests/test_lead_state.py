from odoo.tools import SQL

from .common import FunnelCommon

STATES = ("open", "won", "lost", "archived")


class TestLeadState(FunnelCommon):
    """One definition of open, won, lost and merely archived opportunities, in
    Python (``_funnel_state``) and in SQL (``_funnel_state_sql``), which every
    report and job reads."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        (cls.s1 | cls.s2).gate_policy = "none"
        cls.open = cls._create_lead("Open", stage=cls.s2)
        cls.omitted = cls._create_lead("Omitted", stage=cls.s1)
        cls.omitted.forecast_category = "omitted"
        cls.won = cls._create_lead("Won", stage=cls.s1)
        cls.won.action_set_won()
        cls.lost = cls._create_lead("Lost", stage=cls.s2)
        cls.lost.action_set_lost()
        cls.archived = cls._create_lead("Archived", stage=cls.s2)
        cls.archived.write({"active": False, "probability": 30})
        cls.leads = (
            cls.open | cls.omitted | cls.won | cls.lost | cls.archived
        ).with_context(active_test=False)

    def _sql_states(self, alias):
        self.env.flush_all()
        Lead = self.env["crm.lead"]
        states = {}
        for state in STATES:
            condition = Lead._funnel_state_sql(state, alias)
            rows = self.env.execute_query(
                SQL(
                    "SELECT id FROM crm_lead %s WHERE %s AND id IN %s",
                    SQL.identifier(alias) if alias else SQL(""),
                    condition,
                    tuple(self.leads.ids),
                )
            )
            for (lead_id,) in rows:
                self.assertNotIn(lead_id, states, "one state per opportunity")
                states[lead_id] = state
        return states

    def test_python_and_sql_agree(self):
        python = {lead.id: lead._funnel_state() for lead in self.leads}
        self.assertEqual(
            python,
            {
                self.open.id: "open",
                self.omitted.id: "open",
                self.won.id: "won",
                self.lost.id: "lost",
                self.archived.id: "archived",
            },
        )
        self.assertEqual(self._sql_states("l"), python)
        # on bare columns, as the predicates of the forecast's indexes read them
        self.assertEqual(self._sql_states(None), python)

    def test_won_is_the_closed_category(self):
        """Won ⇔ Closed: the SQL reads the category, not the stage."""
        self.assertEqual(self.won.forecast_category, "closed")
        self.won.stage_id = self.s2
        self.assertEqual(self.won._funnel_state(), "open")
        self.assertEqual(self._sql_states("l")[self.won.id], "open")
        self.won.toggle_active()
        self.assertEqual(self.won._funnel_state(), "lost")

    def test_leads_are_no_opportunities(self):
        lead = self.env["crm.lead"].create({"name": "A lead", "type": "lead"})
        self.env.flush_all()
        for state in STATES:
            rows = self.env.execute_query(
                SQL(
                    "SELECT id FROM crm_lead l WHERE %s AND id = %s",
                    self.env["crm.lead"]._funnel_state_sql(state),
                    lead.id,
                )
            )
            self.assertFalse(rows, state)
