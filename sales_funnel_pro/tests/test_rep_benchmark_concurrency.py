from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tests.common import BaseCase, get_db_name


class TestRepBenchmarkConcurrency(BaseCase):
    """Two workers rebuild the capability figures at once, each on its own
    connection, as two cron workers (or the cron and a manager's button) would:
    the second finds the rebuild locked and skips it instead of writing the rows
    a second time; once the first has committed, a rebuild runs again."""

    def setUp(self):
        super().setUp()
        self.registry = Registry(get_db_name())
        self.addCleanup(self._clean_up)

    def _clean_up(self):
        with self.registry.cursor() as cr:
            cr.execute("DELETE FROM funnel_rep_benchmark")

    def test_two_rebuilds_at_once(self):
        with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
            env_a = api.Environment(cr_a, SUPERUSER_ID, {})
            env_b = api.Environment(cr_b, SUPERUSER_ID, {})
            written = env_a["funnel.rep.benchmark"]._rebuild()
            self.assertIsNot(written, False)
            # the first holds the lock until it commits
            self.assertIs(env_b["funnel.rep.benchmark"]._rebuild(), False)
            cr_a.commit()
            cr_b.rollback()
            self.assertEqual(env_b["funnel.rep.benchmark"]._rebuild(), written)
            cr_b.commit()
            cr_a.execute("SELECT count(*) FROM funnel_rep_benchmark")
            self.assertEqual(cr_a.fetchone()[0], written)
