from odoo import SUPERUSER_ID, api
from odoo.tools import SQL


def migrate(cr, version):
    """1.2: forecast categories, targets and historical win rates. The forecast
    category of the opportunities is filled from their stage in SQL (its column is
    added with Pipeline for all, see crm.lead._funnel_column_defaults), and the
    historical win rates are measured at once instead of at the first nightly
    run."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    fill_forecast_category(env)
    env["funnel.stage.win.rate"]._refresh()


def fill_forecast_category(env):
    """The forecast category of the existing opportunities, from their stage, in
    one UPDATE that writes only the rows whose category differs."""
    env.flush_all()
    category = env["crm.lead"]._funnel_category_sql("l2", "s")
    env.cr.execute(
        SQL(
            """
            UPDATE crm_lead l
               SET forecast_category = %s
              FROM crm_lead l2
              LEFT JOIN crm_stage s ON s.id = l2.stage_id
             WHERE l2.id = l.id
               AND l.forecast_category IS DISTINCT FROM %s
            """,
            category,
            category,
        )
    )
    env.invalidate_all()
