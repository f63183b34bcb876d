from datetime import date

from odoo.exceptions import ValidationError
from odoo.tests import freeze_time, tagged
from odoo.tools.misc import file_path

from .installed_base_common import TODAY, InstalledBaseCommon

FIELDS = [
    "name",
    "partner_id",
    "category_id",
    "brand",
    "serial_no",
    "install_date",
    "warranty_end_date",
    "lifetime_months",
]


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestInstalledAsset(InstalledBaseCommon):
    def _row(self, **values):
        row = {
            "name": "Calibrator",
            "partner_id": "Metro Lab",
            "category_id": "Calibrators",
            "brand": "Acme",
            "serial_no": "SN-1",
            "install_date": "2024-01-10",
            "warranty_end_date": "2026-01-10",
            "lifetime_months": "60",
        }
        row.update(values)
        return [row[field] for field in FIELDS]

    def _load(self, *rows):
        Asset = self.env["funnel.installed.asset"]
        before = Asset.search_count([])
        result = Asset.load(FIELDS, list(rows))
        return result, Asset.search_count([]) - before

    def _errors(self, result):
        return " ".join(
            m["message"] for m in result["messages"] if m["type"] == "error"
        )

    # ------------------------------------------------------------
    # Defaults and computed life
    # ------------------------------------------------------------

    def test_defaults_from_category_and_customer(self):
        asset = self._asset(date(2025, 1, 1))
        self.assertEqual(asset.lifetime_months, 100)
        self.assertEqual(asset.end_of_life_date, date(2033, 5, 1))
        self.assertEqual(asset.replacement_value, 10000)
        self.assertEqual(asset.sales_user_id, self.user_salesman)
        self.assertEqual(asset.life_phase, "early")
        self.assertEqual(asset.age_months, 17)
        self.assertEqual(self.customer.funnel_asset_count, 1)

    def test_import_template(self):
        (template,) = self.env["funnel.installed.asset"].get_import_templates()
        self.assertEqual(
            template["template"],
            "/sales_funnel_pro/static/xls/funnel_installed_asset.xlsx",
        )
        self.assertTrue(file_path(template["template"].lstrip("/")))

    # ------------------------------------------------------------
    # Refused: by the ORM, nothing written
    # ------------------------------------------------------------

    def test_refuses_future_install_date(self):
        with self.assertRaisesRegex(
            ValidationError, "cannot be installed in the future"
        ):
            self._asset(date(2026, 6, 16))
        self.assertFalse(self.env["funnel.installed.asset"].search([]))

    def test_refuses_lifetime_not_positive(self):
        for months in (0, -12):
            with self.assertRaisesRegex(ValidationError, "must be more than 0 months"):
                self._asset(date(2025, 1, 1), lifetime_months=months)
        self.assertFalse(self.env["funnel.installed.asset"].search([]))

    def test_refuses_warranty_before_install(self):
        with self.assertRaisesRegex(
            ValidationError, "cannot end .* before its installation"
        ):
            self._asset(date(2025, 1, 1), warranty_end_date=date(2024, 12, 31))
        self.assertFalse(self.env["funnel.installed.asset"].search([]))

    def test_serial_unique_per_company_and_brand(self):
        self._asset(date(2025, 1, 1), brand="Acme", serial_no="X1")
        # another brand, or no serial: fine
        self._asset(date(2025, 1, 1), brand="Other", serial_no="X1")
        self._asset(date(2025, 1, 1), brand="Acme")
        self._asset(date(2025, 1, 1), brand="Acme")
        # another company: fine
        company = self.env["res.company"].create({"name": "Other Company"})
        self.env["funnel.installed.asset"].create(
            {
                "name": "Elsewhere",
                "partner_id": self.env["res.partner"]
                .create({"name": "Far Lab", "company_id": company.id})
                .id,
                "category_id": self.category.id,
                "install_date": date(2025, 1, 1),
                "brand": "Acme",
                "serial_no": "X1",
                "company_id": company.id,
            }
        )
        with self.assertRaisesRegex(
            ValidationError, "X1 of the brand “Acme” is already used"
        ):
            self._asset(date(2025, 1, 1), brand="Acme", serial_no="X1")
        self.assertEqual(
            self.env["funnel.installed.asset"].search_count([("serial_no", "=", "X1")]),
            3,
        )

    def test_category_limits(self):
        Category = self.env["funnel.asset.category"]
        with self.assertRaisesRegex(ValidationError, "must be more than 0 months"):
            Category.create({"name": "Bad", "lifetime_months": 0})
        with self.assertRaisesRegex(ValidationError, "0 < early < late < 100"):
            Category.create({"name": "Bad", "early_until_pct": 70, "late_from_pct": 60})
        self.assertFalse(Category.search([("name", "=", "Bad")]))

    # ------------------------------------------------------------
    # Refused: through the import (load), nothing written
    # ------------------------------------------------------------

    def test_load_good_rows(self):
        result, created = self._load(
            self._row(),
            self._row(serial_no="SN-2", name="Second", warranty_end_date=""),
        )
        self.assertFalse(self._errors(result))
        self.assertEqual(created, 2)
        asset = self.env["funnel.installed.asset"].browse(result["ids"][0])
        self.assertEqual(
            (
                asset.partner_id,
                asset.category_id,
                asset.lifetime_months,
                asset.life_phase,
            ),
            (self.customer, self.category, 60, "mid"),
        )

    def test_load_refuses_each_bad_row(self):
        cases = {
            "future install date": (
                {"install_date": "2026-07-01"},
                "cannot be installed in the future",
            ),
            "unknown category": (
                {"category_id": "Teleporters"},
                "No matching record found",
            ),
            "lifetime ≤ 0": ({"lifetime_months": "0"}, "must be more than 0 months"),
            "warranty before install": (
                {"warranty_end_date": "2023-12-31"},
                "before its installation",
            ),
            "duplicated serial": ({"serial_no": "SN-1"}, "is already used"),
        }
        for case, (values, message) in cases.items():
            with self.subTest(case):
                # a good row first: the bad one refuses the whole file
                result, created = self._load(
                    self._row(),
                    self._row(name="Bad", **{"serial_no": "SN-9", **values}),
                )
                self.assertRegex(self._errors(result), message)
                self.assertFalse(result["ids"])
                self.assertEqual(created, 0, "nothing written")
