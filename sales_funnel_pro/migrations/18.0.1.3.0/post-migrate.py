from odoo import SUPERUSER_ID, api

# the salesperson's rule of the forecast report, and what it was up to 1.2
PERSONAL_RULE = "[('owner_key', 'in', [user.id, -1])]"
PERSONAL_RULE_1_2 = "['|', ('user_id', '=', user.id), ('user_id', '=', False)]"


def migrate(cr, version):
    """1.3: the salesperson's forecast rule reads the owner of the rows, which the
    indexes of the opportunities answer (created by crm.lead's init)."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    upgrade_personal_rule(env)


def upgrade_personal_rule(env):
    """The salesperson's rule reads ``owner_key`` (the same rows). Rules are not
    updated by an upgrade (noupdate): the rule is rewritten, unless it was
    changed."""
    rule = env.ref(
        "sales_funnel_pro.funnel_forecast_report_rule_personal",
        raise_if_not_found=False,
    )
    if rule and rule.domain_force == PERSONAL_RULE_1_2:
        rule.domain_force = PERSONAL_RULE
