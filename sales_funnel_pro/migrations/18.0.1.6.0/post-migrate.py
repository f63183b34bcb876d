from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    """1.6: the stage history keeps whether the opportunity got past each stage,
    which the conversion report reads instead of searching the later rows."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["funnel.stage.history"]._fill_got_past()
