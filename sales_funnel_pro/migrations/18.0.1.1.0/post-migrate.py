from odoo import SUPERUSER_ID, api
from odoo.tools import SQL


def migrate(cr, version):
    """1.1: the activity log. Log the activities already done on opportunities and
    fill the next step and the last touch of the opportunities."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["funnel.activity.log"]._backfill_from_messages()
    fill_activity_fields(env)


def fill_activity_fields(env):
    """The next step and the last touch of the opportunities that have
    activities (the others keep the defaults of their new columns)."""
    env.flush_all()
    env.cr.execute(
        SQL(
            """
            UPDATE crm_lead l
               SET next_activity_state = CASE
                       WHEN a.deadline < CURRENT_DATE THEN 'overdue'
                       WHEN a.deadline = CURRENT_DATE THEN 'today'
                       ELSE 'planned' END
              FROM (SELECT res_id, min(date_deadline) AS deadline
                      FROM mail_activity
                     WHERE res_model = 'crm.lead' AND active
                     GROUP BY res_id) a
             WHERE a.res_id = l.id
            """
        )
    )
    env.cr.execute(
        SQL(
            """
            UPDATE crm_lead l SET last_touch_date = g.last
              FROM (SELECT lead_id, max(date) AS last FROM funnel_activity_log
                     GROUP BY lead_id) g
             WHERE g.lead_id = l.id
            """
        )
    )
    env.cr.execute(
        SQL(
            """
            UPDATE crm_lead
               SET quiet_since = GREATEST(last_touch_date, date_last_stage_update)
             WHERE quiet_since IS DISTINCT FROM
                   GREATEST(last_touch_date, date_last_stage_update)
            """
        )
    )
    env.invalidate_all()
