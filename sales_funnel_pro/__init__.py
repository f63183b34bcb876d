from . import models
from . import report
from . import wizard


def post_init_hook(env):
    """Build the stage history and the activity log of the opportunities that
    already exist, from their chatter, and measure the historical win rates."""
    env["funnel.stage.history"]._backfill_from_tracking()
    env["funnel.activity.log"]._backfill_from_messages()
    env["crm.lead"]._funnel_init_stored_fields()
    env["funnel.stage.win.rate"]._refresh()


def uninstall_hook(env):
    """Drop the function of the forecast's conditions: PostgreSQL drops the
    view and the indexes that use it with the module's columns and models."""
    env["funnel.forecast.report"]._drop_row_cost_function()
