from odoo.tools import SQL


def migrate(cr, version):
    """1.5: the activity log says which rows are care work (``is_care``: no
    opportunity). On a large log the column is added and filled in one
    statement, instead of being computed row by row by the upgrade."""
    add_is_care(cr)


def add_is_care(cr):
    cr.execute(
        SQL(
            """
            ALTER TABLE funnel_activity_log ADD COLUMN IF NOT EXISTS is_care boolean;
            UPDATE funnel_activity_log SET is_care = (lead_id IS NULL)
             WHERE is_care IS NULL;
            """
        )
    )
