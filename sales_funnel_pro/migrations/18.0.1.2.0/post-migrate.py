from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    """1.2: forecast categories, targets and historical win rates. The forecast
    category of the opportunities is filled from their stage in SQL (its column is
    added with Pipeline for all, see crm.lead._auto_init), and the historical win
    rates are measured at once instead of at the first nightly run."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["crm.lead"]._funnel_fill_forecast_category()
    env["funnel.stage.win.rate"]._refresh()
