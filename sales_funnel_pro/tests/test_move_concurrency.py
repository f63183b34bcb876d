from psycopg2 import errors

from odoo import SUPERUSER_ID, Command, api
from odoo.modules.registry import Registry
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tests.common import BaseCase, get_db_name

from .concurrency import run_overlapping


class TestMoveConcurrency(BaseCase):
    """Two requests on one opportunity at once, each with its own database
    connection, as two prefork workers serve them: the second one starts while
    the first one's transaction is open with its work done; the first commits
    once the second one has finished or after a few seconds. The second one
    must fail only with an error that Odoo retries (a serialization failure, a
    deadlock), never with a duplicate, and the history stays one chain.

    The stages (of a team of their own, so that no other opportunity takes
    part), their criteria and the opportunity are committed, and removed at the
    end.
    """

    def setUp(self):
        super().setUp()
        self.registry = Registry(get_db_name())
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            team = env["crm.team"].create({"name": "Concurrent Team"})
            Stage = env["crm.stage"]
            stages = Stage.create(
                [
                    {"name": f"Concurrent {index}", "sequence": 900 + index}
                    for index in range(3)
                ]
            )
            stages.write({"team_id": team.id})
            criteria = env["funnel.stage.criterion"].create(
                [
                    {"stage_id": stage.id, "name": f"Ticked in {stage.name}"}
                    for stage in stages[:2]
                ]
            )
            lead = env["crm.lead"].create(
                {
                    "name": "Concurrent deal",
                    "type": "opportunity",
                    "team_id": team.id,
                    "stage_id": stages[0].id,
                }
            )
            self.team_id, self.stage_ids = team.id, stages.ids
            self.criterion_ids, self.lead_id = criteria.ids, lead.id
            self.manager_id = env.ref("base.user_admin").id
        self.addCleanup(self._clean_up)

    def _clean_up(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["crm.lead"].browse(self.lead_id).unlink()
            env["funnel.stage.criterion"].browse(self.criterion_ids).unlink()
            env["crm.stage"].browse(self.stage_ids).unlink()
            env["crm.team"].browse(self.team_id).unlink()

    def _twice_at_once(self, request):
        """Run ``request(env)`` in two overlapping transactions, as the
        manager; return what each one raised (None when it did not)."""

        def work(cr):
            request(api.Environment(cr, self.manager_id, {}))

        return run_overlapping(self.registry, work, work)

    def _assert_retried_or_none(self, raised):
        first, second = raised
        self.assertIsNone(first)
        if second is not None:
            self.assertIsInstance(
                second,
                PG_CONCURRENCY_EXCEPTIONS_TO_RETRY,
                "the second request fails with an error that Odoo retries",
            )
            self.assertNotIsInstance(second, errors.UniqueViolation)

    def _state(self):
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT stage_from_id, stage_id, is_open FROM funnel_stage_history "
                "WHERE lead_id = %s ORDER BY date_in, id",
                [self.lead_id],
            )
            rows = cr.fetchall()
            cr.execute(
                "SELECT criterion_id, count(*) FROM funnel_lead_check "
                "WHERE lead_id = %s GROUP BY criterion_id",
                [self.lead_id],
            )
            checks = dict(cr.fetchall())
            cr.execute("SELECT stage_id FROM crm_lead WHERE id = %s", [self.lead_id])
            return rows, checks, cr.fetchone()[0]

    def _assert_one_chain(self, rows, stage_id):
        for previous, row in zip(rows, rows[1:], strict=False):
            self.assertEqual(row[0], previous[1], "each row follows the previous one")
        self.assertEqual([row[2] for row in rows].count(True), 1)
        self.assertTrue(rows[-1][2])
        self.assertEqual(rows[-1][1], stage_id)

    def test_two_moves_of_one_opportunity(self):
        """Two salespeople drag the same card to the next stage at once (its
        checklist ticked)."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["funnel.lead.check"].search([("lead_id", "=", self.lead_id)]).write(
                {"state": "met"}
            )

        def move(env):
            env["crm.lead"].browse(self.lead_id).write({"stage_id": self.stage_ids[1]})

        self._assert_retried_or_none(self._twice_at_once(move))
        rows, checks, stage_id = self._state()
        self.assertEqual(stage_id, self.stage_ids[1])
        self._assert_one_chain(rows, stage_id)
        self.assertEqual(len(rows), 2, "one move recorded")
        self.assertEqual(set(checks.values()), {1}, "one check per criterion")

    def test_two_waivers_of_one_opportunity(self):
        """Two sales managers advance the same card two stages anyway at once:
        the criteria of the stage in between have no check yet, both would
        create it."""

        def waive(env):
            wizard = (
                env["funnel.gate.waiver"]
                .with_context(default_lead_ids=[self.lead_id])
                .create(
                    {
                        "lead_ids": [Command.set([self.lead_id])],
                        "stage_id": self.stage_ids[2],
                        "reason": "Signed on the phone",
                    }
                )
            )
            wizard.action_confirm()

        self._assert_retried_or_none(self._twice_at_once(waive))
        rows, checks, stage_id = self._state()
        self.assertEqual(stage_id, self.stage_ids[2])
        self._assert_one_chain(rows, stage_id)
        self.assertEqual(checks, dict.fromkeys(self.criterion_ids, 1))
