from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    """1.3: the salesperson's forecast rule reads the owner of the rows, which the
    indexes of the opportunities answer (created with the report's view)."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["funnel.forecast.report"]._upgrade_personal_rule()
