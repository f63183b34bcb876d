from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    """1.7: the stages passed the first time are stored (``funnel.stage.pass``),
    with the opportunity's outcome, for the conversion report to read."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["funnel.stage.pass"]._refresh_all()
