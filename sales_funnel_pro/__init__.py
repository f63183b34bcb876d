from . import models
from . import wizard


def post_init_hook(env):
    """Build the stage history of the opportunities that already exist."""
    env["funnel.stage.history"]._backfill_from_tracking()
