"""Install and uninstall of the addon."""

from odoo.tools import SQL


def post_init_hook(env):
    """Build the stage history and the activity log of the opportunities that
    already exist, from their chatter, fill the stored fields of the funnel and
    the stages passed, and measure the historical win rates."""
    env["funnel.stage.history"]._backfill_from_tracking()
    env["funnel.stage.history"]._fill_pass_columns(passes=False)
    env["funnel.activity.log"]._backfill_from_messages()
    fill_lead_fields(env)
    # the stages passed, once: their outcome reads the forecast categories
    env["funnel.stage.pass"]._refresh_all()
    env["funnel.stage.win.rate"]._refresh()


def uninstall_hook(env):
    """Drop the forecast's and the pipeline changes' indexes of crm_lead and
    the function of their condition (PostgreSQL drops the rest with the
    module's columns and views)."""
    env["crm.lead"]._funnel_drop_forecast_indexes(function=True)
    env["crm.lead"]._funnel_drop_change_indexes()


def fill_lead_fields(env):
    """After install: the forecast category, the next step, the last touch and
    the quiet date of the existing opportunities, in one UPDATE that writes each
    row once (PostgreSQL writes a new version of the whole row for every UPDATE:
    one per field would multiply the size of the table). The forecast's indexes
    of crm_lead are built after it rather than updated by it, so that they do not
    start twice their size: the versions of the rows that it replaces, which
    this transaction still sees, have no forecast category and stay out of them.

    :return: the number of opportunities written
    """
    Lead = env["crm.lead"]
    Lead._funnel_drop_forecast_indexes()
    env.flush_all()
    env.cr.execute(
        SQL(
            """
            UPDATE crm_lead l
               SET forecast_category = v.category,
                   next_activity_state = v.next_state,
                   last_touch_date = v.last_touch,
                   quiet_since = GREATEST(v.last_touch, l.date_last_stage_update)
              FROM (
                SELECT l2.id,
                       %s AS category,
                       CASE WHEN a.deadline IS NULL THEN 'none'
                            WHEN a.deadline < CURRENT_DATE THEN 'overdue'
                            WHEN a.deadline = CURRENT_DATE THEN 'today'
                            ELSE 'planned' END AS next_state,
                       g.last AS last_touch
                  FROM crm_lead l2
                  LEFT JOIN crm_stage s ON s.id = l2.stage_id
                  LEFT JOIN (SELECT res_id, min(date_deadline) AS deadline
                               FROM mail_activity
                              WHERE res_model = 'crm.lead' AND active
                              GROUP BY res_id) a ON a.res_id = l2.id
                  LEFT JOIN (SELECT lead_id, max(date) AS last
                               FROM funnel_activity_log
                              GROUP BY lead_id) g ON g.lead_id = l2.id
              ) v
             WHERE v.id = l.id
               AND (l.forecast_category IS DISTINCT FROM v.category
                    OR l.next_activity_state IS DISTINCT FROM v.next_state
                    OR l.last_touch_date IS DISTINCT FROM v.last_touch
                    OR l.quiet_since IS DISTINCT FROM
                       GREATEST(v.last_touch, l.date_last_stage_update))
            """,
            Lead._funnel_category_sql("l2", "s"),
        )
    )
    written = env.cr.rowcount
    env.invalidate_all()
    Lead._funnel_create_forecast_indexes()
    return written
