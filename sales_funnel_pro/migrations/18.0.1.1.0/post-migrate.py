from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    """1.1: the activity log. Log the activities already done on opportunities and
    fill the next step and the last touch of the opportunities."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["funnel.activity.log"]._backfill_from_messages()
    env["crm.lead"]._funnel_init_activity_fields()
