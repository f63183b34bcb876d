"""The nightly life-phase job of the installed base.

One run (``_refresh_life_phases``), set-based and idempotent:

1. under a transaction-level advisory lock, so that a second worker running it
   at the same time does nothing (it returns None at once, without waiting);
2. one UPDATE brings every active asset's ``life_phase`` up to date, and returns
   the assets whose phase changed: their chatter says from which to which;
3. the plan of each asset's current phase is launched once (``plan_<phase>_done``);
4. an asset in its late life (or past it) does once what its category says
   (``late_action_done``): an activity for the care owner, a lead for inside
   sales or an opportunity for the account's salesperson.

Running it again the same day changes nothing.
"""

import logging

from markupsafe import Markup

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from .funnel_installed_asset import PLAN_PHASES

_logger = logging.getLogger(__name__)

# the key of the advisory lock taken by a run
LOCK_KEY = "sales_funnel_pro.life_phase"
# assets handled per batch of plans and late actions
BATCH = 1000


class FunnelInstalledAsset(models.Model):
    _inherit = "funnel.installed.asset"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _life_phase_sql(self, today, asset="a", category="c"):
        """The life phase of ``asset`` on ``today``, in SQL (``life_phase`` in
        Python)."""
        a, c = SQL.identifier(asset), SQL.identifier(category)
        return SQL(
            """
            CASE WHEN %(a)s.retired_date IS NOT NULL THEN 'retired'
                 WHEN %(a)s.install_date IS NULL OR %(a)s.end_of_life_date IS NULL
                      THEN 'early'
                 WHEN %(today)s >= %(a)s.end_of_life_date THEN 'end_of_life'
                 WHEN (%(today)s - %(a)s.install_date) * 100
                      >= %(c)s.late_from_pct
                         * (%(a)s.end_of_life_date - %(a)s.install_date) THEN 'late'
                 WHEN (%(today)s - %(a)s.install_date) * 100
                      >= %(c)s.early_until_pct
                         * (%(a)s.end_of_life_date - %(a)s.install_date) THEN 'mid'
                 ELSE 'early' END
            """,
            a=a,
            c=c,
            today=today,
        )

    # ------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------

    @api.model
    def _cron_refresh_life_phases(self):
        self._refresh_life_phases()

    @api.model
    def action_refresh_life_phases(self):
        """Bring the life phases up to date now (sales managers), in the
        background when the installed base is large."""
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(
                self.env._("Only sales managers may refresh the life phases.")
            )
        Job = self.env["funnel.job"]
        Job._check_not_running("life_phase")
        if Job._in_background(self.sudo().search_count([])):
            return Job._start("life_phase", 1)._started_action(
                {"type": "ir.actions.client", "tag": "soft_reload"}
            )
        result = self.sudo()._refresh_life_phases()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self._life_phases_message(result),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    @api.model
    def _life_phases_message(self, result):
        if result is None:
            return self.env._("The life phases are being refreshed by another run.")
        return self.env._(
            "Life phases refreshed: %(changed)s assets changed phase, %(plans)s plans "
            "launched, %(actions)s late-life actions.",
            **result,
        )

    @api.model
    def _funnel_job_life_phases(self, job, records):
        self.sudo()._refresh_life_phases()
        return 1

    @api.model
    def _funnel_job_life_phases_done(self, job):
        return self.env._("Life phases refreshed.")

    # ------------------------------------------------------------
    # The run
    # ------------------------------------------------------------

    @api.model
    def _refresh_life_phases(self, today=None):
        """One run of the job (see the module's docstring).

        :return: {"changed": n, "plans": n, "actions": n}, or None when another
            run holds the lock
        """
        cr = self.env.cr
        cr.execute(SQL("SELECT pg_try_advisory_xact_lock(hashtext(%s))", LOCK_KEY))
        if not cr.fetchone()[0]:
            _logger.info("Life phases: another run holds the lock, skipped")
            return None
        today = today or fields.Date.context_today(self)
        self.flush_model()
        self.env["funnel.asset.category"].flush_model()
        cr.execute(
            SQL(
                """
                UPDATE funnel_installed_asset a
                   SET life_phase = t.new_phase, write_date = now() AT TIME ZONE 'UTC'
                  FROM (SELECT a.id, a.life_phase AS old_phase, %(phase)s AS new_phase
                          FROM funnel_installed_asset a
                          JOIN funnel_asset_category c ON c.id = a.category_id
                         WHERE a.active) t
                 WHERE a.id = t.id AND a.life_phase IS DISTINCT FROM t.new_phase
             RETURNING a.id, t.old_phase, t.new_phase
                """,
                phase=self._life_phase_sql(today),
            )
        )
        changes = cr.fetchall()
        self.invalidate_model(["life_phase"])
        self._log_phase_changes(changes)
        plans = self._launch_phase_plans(today)
        actions = self._run_late_actions(today)
        _logger.info(
            "Life phases: %s changed, %s plans, %s late actions",
            len(changes),
            plans,
            actions,
        )
        return {"changed": len(changes), "plans": plans, "actions": actions}

    @api.model
    def _log_phase_changes(self, changes):
        labels = dict(self._fields["life_phase"]._description_selection(self.env))
        labels[None] = self.env._("none")
        for start in range(0, len(changes), BATCH * 10):
            batch = changes[start : start + BATCH * 10]
            bodies = {
                asset_id: Markup("%s")
                % self.env._(
                    "Life phase: %(old)s → %(new)s",
                    old=labels.get(old, old),
                    new=labels.get(new, new),
                )
                for asset_id, old, new in batch
            }
            self.browse(list(bodies))._message_log_batch(bodies=bodies)

    @api.model
    def _launch_phase_plans(self, today):
        """Launch, once per asset, the plan of its current phase."""
        launched = 0
        for phase in PLAN_PHASES:
            done = f"plan_{phase}_done"
            plan_field = f"plan_{phase}_id"
            assets = self.search(
                [
                    ("life_phase", "=", phase),
                    (done, "=", False),
                    (f"category_id.{plan_field}", "!=", False),
                ]
            )
            for start in range(0, len(assets), BATCH):
                batch = assets[start : start + BATCH]
                batch._launch_plan(phase, today)
                launched += len(batch)
        return launched

    def _launch_plan(self, phase, today=None):
        """Schedule the activities of the category's plan of ``phase`` on these
        assets, say so on their chatter, and mark the plan as launched."""
        today = today or fields.Date.context_today(self)
        model_id = self.env["ir.model"]._get_id(self._name)
        values, bodies = [], {}
        for asset in self:
            plan = asset.category_id[f"plan_{phase}_id"]
            lines = []
            for template in plan.template_ids:
                user = asset._plan_responsible(template)
                deadline = template._get_date_deadline(today)
                values.append(
                    {
                        "res_model_id": model_id,
                        "res_id": asset.id,
                        "activity_type_id": template.activity_type_id.id,
                        "summary": template.summary,
                        "note": template.note,
                        "user_id": user.id,
                        "date_deadline": deadline,
                    }
                )
                lines.append(
                    Markup("<li>%s</li>")
                    % self.env._(
                        "%(activity)s, assigned to %(name)s, due on %(deadline)s",
                        activity=template.summary or template.activity_type_id.name,
                        name=user.name,
                        deadline=deadline,
                    )
                )
            if plan:
                bodies[asset.id] = Markup("%s<ul>%s</ul>") % (
                    self.env._('The plan "%(plan)s" has been started', plan=plan.name),
                    Markup().join(lines),
                )
        self._create_activities(values)
        if bodies:
            self.browse(list(bodies))._message_log_batch(bodies=bodies)
        self.write({f"plan_{phase}_done": True})

    @api.model
    def _create_activities(self, values):
        """Create the activities ``values`` in one batch: their responsibles
        follow their assets first (mail.activity subscribes them per activity,
        which fails when an asset gets several activities of one user at once)."""
        if not values:
            return self.env["mail.activity"]
        followers = {}
        for vals in values:
            followers.setdefault(vals["user_id"], set()).add(vals["res_id"])
        users = self.env["res.users"].sudo().browse(list(followers))
        for user in users:
            self.sudo().browse(sorted(followers[user.id])).message_subscribe(
                partner_ids=user.partner_id.ids
            )
        return self.env["mail.activity"].sudo().create(values)

    def _plan_responsible(self, template):
        self.ensure_one()
        if template.responsible_type == "other" and template.responsible_id:
            return template.responsible_id
        return self._care_or_sales_user()

    def _care_or_sales_user(self):
        self.ensure_one()
        return (
            self.care_user_id
            or self.sales_user_id
            or self.partner_id.commercial_partner_id.user_id
            or self.env["res.users"].browse(
                self.env.uid if not self.env.user._is_public() else SUPERUSER_ID
            )
        )

    # ------------------------------------------------------------
    # Late life
    # ------------------------------------------------------------

    @api.model
    def _run_late_actions(self, today):
        """Once per asset in its late life or past it: what its category says."""
        assets = self.search(
            [
                ("life_phase", "in", ("late", "end_of_life")),
                ("late_action_done", "=", False),
            ]
        )
        done = 0
        for start in range(0, len(assets), BATCH):
            batch = assets[start : start + BATCH]
            for action in ("activity", "lead", "opportunity"):
                todo = batch.filtered(
                    lambda a, k=action: a.category_id.late_action == k
                )
                if todo:
                    getattr(todo, f"_late_{action}")(today)
                    done += len(todo)
            batch.write({"late_action_done": True})
        return done

    def _late_activity(self, today):
        model_id = self.env["ir.model"]._get_id(self._name)
        todo = self.env.ref("mail.mail_activity_data_todo")
        self._create_activities(
            [
                {
                    "res_model_id": model_id,
                    "res_id": asset.id,
                    "activity_type_id": (
                        asset.category_id.late_activity_type_id or todo
                    ).id,
                    "summary": self.env._("Late life: introduce the new products"),
                    "user_id": asset._care_or_sales_user().id,
                    "date_deadline": today,
                }
                for asset in self
            ]
        )

    def _late_lead(self, today):
        source = self.env.ref("sales_funnel_pro.utm_source_installed_base")
        leads = self.env["crm.lead"].create(
            [
                {
                    **asset._replacement_values(source),
                    "type": "lead",
                    "user_id": False,
                    "team_id": asset.category_id.late_team_id.id or False,
                }
                for asset in self
            ]
        )
        self._post_replacement(leads)

    def _late_opportunity(self, today):
        source = self.env.ref("sales_funnel_pro.utm_source_installed_base")
        values = []
        for asset in self:
            user = asset.sales_user_id or asset.partner_id.commercial_partner_id.user_id
            values.append(
                {
                    **asset._replacement_values(source),
                    "type": "opportunity",
                    "user_id": user.id or False,
                    "team_id": user.sale_team_id.id or False,
                    "date_deadline": max(asset.end_of_life_date or today, today),
                    "expected_revenue": asset.replacement_value,
                }
            )
        leads = self.env["crm.lead"].create(values)
        self._post_replacement(leads)

    def _replacement_values(self, source):
        self.ensure_one()
        return {
            "name": self.env._("Replacement of %(asset)s", asset=self.name),
            "partner_id": self.partner_id.id,
            "company_id": self.company_id.id,
            "source_id": source.id,
            "asset_ids": [fields.Command.set(self.ids)],
        }

    def _post_replacement(self, leads):
        bodies = {
            asset.id: Markup("%s")
            % self.env._("Late life: %(lead)s opened.", lead=lead.name)
            for asset, lead in zip(self, leads, strict=True)
        }
        self._message_log_batch(bodies=bodies)
