"""Writes the installed-base story of the demo (``demo_story.installed_base``):
asset categories, the customers' installed assets, the care team's year of care
logs, and where some of the year's opportunities came from; then the nightly
life-phase job runs once, launching each asset's phase plan and the late-life
actions (the opportunities and leads of ageing units)."""

from datetime import timedelta

from odoo import Command

from ..demo_story.installed_base import CARE_OWNERS
from .crm_lead import LOAD_HISTORY_KEY

MODULE = "sales_funnel_pro"
CARE_TYPES = {
    "customer_care": "mail_activity_type_customer_care",
    "regular_callback": "mail_activity_type_regular_callback",
    "technical_exchange": "mail_activity_type_technical_exchange",
}


class InstalledBaseWriter:
    def __init__(self, writer):
        self.writer = writer
        self.env = writer.env

    def ref(self, name):
        return self.env.ref(f"{MODULE}.{name}")

    def write_installed_base(self, base, pairs, categories):
        records = dict(pairs_by_number(pairs))
        category_ids = self.write_categories(categories)
        care_users = {
            key: self.ref(f"user_{key}_demo")
            for key in {log.care_owner for log in base.care_logs}
        }
        assets = self.write_assets(base.assets, records, category_ids, care_users)
        self.write_care_logs(base.care_logs, assets, care_users)
        self.write_origins(base.origins, records, assets, care_users)
        self.env.flush_all()
        # the plans' activities of a demo are not mailed to their assignees
        self.env["funnel.installed.asset"].with_context(
            mail_activity_quick_update=True, **{LOAD_HISTORY_KEY: False}
        )._refresh_life_phases()

    def write_categories(self, categories):
        plans = {
            phase: self.ref(f"mail_activity_plan_{phase}_life").id
            for phase in ("early", "mid", "late")
        }
        records = self.env["funnel.asset.category"].create(
            [
                {
                    "name": name,
                    "lifetime_months": months,
                    "replacement_value": value,
                    "late_action": action,
                    "plan_early_id": plans["early"],
                    "plan_mid_id": plans["mid"],
                    "plan_late_id": plans["late"],
                    "care_team_id": self.ref("crm_team_care_demo").id,
                    "late_team_id": self.ref("crm_team_labs_demo").id,
                    "company_id": self.writer.company.id,
                }
                for __, name, months, value, action in categories
            ]
        )
        self.writer.name_records(
            records, [f"funnel_asset_category_{c[0]}_demo" for c in categories]
        )
        return {c[0]: record.id for c, record in zip(categories, records, strict=True)}

    def write_assets(self, assets, records, category_ids, care_users):
        Partner = self.env["res.partner"]
        companies = {}
        for asset in assets:
            companies.setdefault(
                asset.customer.key,
                Partner.browse(asset.customer.key).commercial_partner_id,
            )
        vals_list = []
        for asset in assets:
            care = care_users.get(CARE_OWNERS[asset.customer.team])
            lead = records.get(asset.lead.number) if asset.lead else None
            vals_list.append(
                {
                    "name": asset.name,
                    "partner_id": companies[asset.customer.key].id,
                    "contact_id": asset.customer.key,
                    "category_id": category_ids[asset.category],
                    "brand": asset.brand,
                    "is_competitor": asset.competitor,
                    "model_name": asset.model,
                    "serial_no": asset.serial,
                    "install_date": self.writer.day(asset.installed),
                    "warranty_end_date": self.writer.day(asset.installed + 730),
                    "care_user_id": care.id if care else False,
                    "origin_lead_id": lead.id if lead else False,
                    "sales_user_id": lead.user_id.id if lead else False,
                }
            )
        records_ = self.env["funnel.installed.asset"].create(vals_list)
        for team, key in CARE_OWNERS.items():
            user = care_users.get(key)
            if user:
                partners = Partner.union(
                    *(
                        companies[a.customer.key]
                        for a in assets
                        if a.customer.team == team
                    )
                )
                partners.write({"funnel_care_user_id": user.id})
        return records_

    def write_care_logs(self, logs, assets, care_users):
        types = {kind: self.ref(xmlid).id for kind, xmlid in CARE_TYPES.items()}
        Partner = self.env["res.partner"]
        self.env["funnel.activity.log"].create(
            [
                {
                    "partner_id": Partner.browse(
                        log.customer.key
                    ).commercial_partner_id.id,
                    "asset_id": assets[log.asset].id
                    if log.asset is not None
                    else False,
                    "user_id": care_users[log.care_owner].id,
                    "activity_type_id": types[log.kind],
                    "date": self.writer.midnight + timedelta(days=log.day, hours=10),
                    "outcome": log.outcome,
                    "summary": log.summary,
                    "source": "care",
                }
                for log in logs
            ]
        )

    def write_origins(self, origins, records, assets, care_users):
        sources = {
            "care": self.ref("utm_source_after_sales_care").id,
            "installed_base": self.ref("utm_source_installed_base").id,
        }
        for origin in origins:
            lead = records[origin.lead.number]
            values = {"source_id": sources[origin.source]}
            if origin.finder:
                values["referred_by_id"] = care_users[origin.finder].id
            if origin.asset is not None:
                values["asset_ids"] = [Command.link(assets[origin.asset].id)]
            lead.write(values)


def pairs_by_number(pairs):
    return ((lead.number, record) for lead, record in pairs)
