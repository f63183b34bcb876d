from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    """1.2: forecast categories, targets and historical win rates. The forecast
    category of the opportunities is filled in SQL when its column is added (see
    crm.lead._auto_init); here the historical win rates are measured at once
    instead of at the first nightly run."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["funnel.stage.win.rate"]._refresh()
