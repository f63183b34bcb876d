import re

import polib

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged
from odoo.tools.misc import file_path
from odoo.tools.translate import PYTHON_TRANSLATION_COMMENT, TranslationModuleReader

from odoo.addons.mail.tests.common import mail_new_test_user

MODULE = "sales_funnel_pro"
POT_PATH = f"{MODULE}/i18n/{MODULE}.pot"
ZH_CN_PATH = f"{MODULE}/i18n/zh_CN.po"
UPDATE_HINT = "Run tools/update_i18n.sh, then translate the new entries of zh_CN.po."

# %(name)s, %s, %d, %.2f ... and the escaped percent sign %%
PLACEHOLDER = re.compile(r"%%|%(?:\(\w+\))?[-+ #0]*\d*(?:\.\d+)?[sdifr]")
# names of the XML elements of a term (view terms keep their markup)
XML_TAG = re.compile(r"</?([A-Za-z][\w.-]*)")
# Chinese characters, and the full-width punctuation of Chinese text
CJK = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]")

# zh_CN names the professional funnel template gives its stages (issue #2)
ZH_CN_STAGES = {
    "start": "启动",
    "needs": "需求确认",
    "solution": "方案报价",
    "negotiation": "商务谈判",
}


def _placeholders(text):
    return sorted(PLACEHOLDER.findall(text))


def _is_demo_row(row_type, res_id):
    """Whether an exported row comes from a demo record (their xmlids end in _demo):
    the .pot is exported from a database without demo data."""
    return row_type in ("model", "model_terms") and str(res_id).endswith("_demo")


@tagged("post_install", "-at_install")
class TestI18nFiles(TransactionCase):
    """The committed translation files follow the code."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pot = polib.pofile(file_path(POT_PATH))
        cls.zh_cn = polib.pofile(file_path(ZH_CN_PATH))

    def _exported_msgids(self):
        """The msgids an export of the module from this database would hold."""
        reader = TranslationModuleReader(self.env.cr, modules=[MODULE])
        return {
            source
            for module, row_type, __, res_id, source, __, __ in reader
            if module == MODULE and not _is_demo_row(row_type, res_id)
        }

    def test_pot_up_to_date(self):
        exported = self._exported_msgids()
        committed = {entry.msgid for entry in self.pot}
        missing = sorted(exported - committed)
        stale = sorted(committed - exported)
        if missing or stale:
            self.fail(
                f"{POT_PATH} is out of date. {UPDATE_HINT}\n"
                f"Strings missing from it: {missing}\nStrings no longer used: {stale}"
            )

    def test_pot_is_a_template(self):
        self.assertFalse(self.pot.metadata.get("Language"), "a .pot has no language")
        self.assertFalse([entry.msgid for entry in self.pot if entry.msgstr])

    def test_zh_cn_header(self):
        self.assertEqual(self.zh_cn.metadata.get("Language"), "zh_CN")
        self.assertEqual(
            self.zh_cn.metadata.get("Plural-Forms"), "nplurals=1; plural=0;"
        )
        self.assertIn("charset=UTF-8", self.zh_cn.metadata.get("Content-Type", ""))

    def test_zh_cn_complete(self):
        """Every entry of the .pot has a real zh_CN translation."""
        translations = {
            entry.msgid: entry for entry in self.zh_cn if not entry.obsolete
        }
        untranslated = [
            entry.msgid
            for entry in self.pot
            if entry.msgid not in translations
            or not translations[entry.msgid].msgstr.strip()
            or "fuzzy" in translations[entry.msgid].flags
        ]
        if untranslated:
            self.fail(
                f"{ZH_CN_PATH} lacks translations (missing, empty or fuzzy). "
                f"{UPDATE_HINT}\n{untranslated}"
            )

    def test_zh_cn_consistent(self):
        """Translations keep the placeholders, the markup, the quotes and the
        comments Odoo needs to load Python strings."""
        translations = {
            entry.msgid: entry for entry in self.zh_cn if not entry.obsolete
        }
        for pot_entry in self.pot:
            entry = translations.get(pot_entry.msgid)
            if not entry or not entry.msgstr:
                continue  # reported by test_zh_cn_complete
            msgid, msgstr = entry.msgid, entry.msgstr
            with self.subTest(msgid=msgid):
                self.assertEqual(_placeholders(msgstr), _placeholders(msgid))
                self.assertEqual(
                    sorted(XML_TAG.findall(msgstr)), sorted(XML_TAG.findall(msgid))
                )
                for quote in "“”":
                    self.assertGreaterEqual(msgstr.count(quote), msgid.count(quote))
                # a bare % in a formatted Python string breaks the formatting
                if PYTHON_TRANSLATION_COMMENT in pot_entry.comment and _placeholders(
                    msgid
                ):
                    self.assertNotIn("%", PLACEHOLDER.sub("", msgstr))
                # without these comments, Odoo ignores the translation of a
                # Python string
                self.assertEqual(entry.comment, pot_entry.comment)
                self.assertEqual(entry.occurrences, pot_entry.occurrences)
                self.assertTrue(CJK.search(msgstr) or msgstr == msgid, msgstr)


@tagged("post_install", "-at_install")
class TestI18nZhCn(TransactionCase):
    """With Chinese installed, the addon speaks Chinese."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.env["res.lang"]._activate_lang("zh_CN")
        cls.env["ir.module.module"]._load_module_terms([MODULE], ["zh_CN"])
        cls.user_salesman = mail_new_test_user(
            cls.env,
            login="funnel_i18n_salesman",
            name="Wang Xiaoming",
            email="wang@example.com",
            groups="sales_team.group_sale_salesman",
        )
        # the state of a fresh database: crm's stock stages only, no template yet
        stock = (
            cls.env.ref("crm.stage_lead1")
            | cls.env.ref("crm.stage_lead2")
            | cls.env.ref("crm.stage_lead3")
            | cls.env.ref("crm.stage_lead4")
        )
        Stage = cls.env["crm.stage"].with_context(active_test=False)
        others = Stage.search([("id", "not in", stock.ids)])
        if others:
            others.write(
                {
                    "team_id": cls.env["crm.team"].create({"name": "Set aside"}).id,
                    "template_key": False,
                }
            )
        cls.env["funnel.stage.criterion"].with_context(active_test=False).search(
            [("stage_id", "in", stock.ids)]
        ).unlink()
        stock.write({"template_key": False})

    def _apply_template_zh_cn(self):
        changes = (
            self.env["funnel.template.wizard"]
            .with_context(lang="zh_CN")
            ._apply_template()
        )
        stages = {
            key: self.env["crm.stage"].search([("template_key", "=", key)])
            for key in ZH_CN_STAGES
        }
        return changes, stages

    def test_template_stages_in_chinese(self):
        changes, stages = self._apply_template_zh_cn()
        for key, name in ZH_CN_STAGES.items():
            with self.subTest(stage=key):
                self.assertEqual(len(stages[key]), 1)
                self.assertEqual(stages[key].with_context(lang="zh_CN").name, name)
                self.assertIn(f"已创建阶段“{name}”。", changes)
        start = stages["start"].with_context(lang="zh_CN")
        self.assertEqual(
            start.criterion_ids.mapped("name"),
            ["预算已明确", "决策人已明确", "客户已关联"],
        )
        # (the stage named in these lines is left out: the wizard names it in English)
        self.assertTrue(
            any(
                line.startswith("已为阶段“")
                and line.endswith("”添加标准“预算已明确”。")
                for line in changes
            ),
            changes,
        )
        # the English names stay the source of the records
        self.assertEqual(stages["start"].with_context(lang="en_US").name, "Start")

    def test_gate_error_in_chinese(self):
        __, stages = self._apply_template_zh_cn()
        lead = self.env["crm.lead"].create(
            {
                "name": "高精度压力校准器",
                "type": "opportunity",
                "stage_id": stages["start"].id,
                "user_id": self.user_salesman.id,
            }
        )
        with self.assertRaises(UserError) as caught:
            lead.with_user(self.user_salesman).with_context(lang="zh_CN").write(
                {"stage_id": stages["needs"].id}
            )
        message = str(caught.exception.args[0])
        self.assertTrue(
            message.startswith(
                "“高精度压力校准器”暂时无法移至“需求确认”。未满足的退出标准："
            ),
            message,
        )
        for criterion in ("启动", "预算已明确", "决策人已明确", "客户已关联"):
            self.assertIn(criterion, message)
        self.assertIn(
            "请在“资格审查”选项卡中满足这些标准，或请销售经理豁免放行。", message
        )
        self.assertNotIn("cannot move", message)
        self.assertNotIn("Unmet exit criteria", message)
        self.assertEqual(lead.stage_id, stages["start"], "nothing was written")

    def test_validation_error_in_chinese(self):
        stage = self.env["crm.stage"].create({"name": "校准方案评审"})
        with self.assertRaises(UserError) as caught:
            stage.with_context(lang="zh_CN").write({"win_rate": 120})
        self.assertEqual(
            str(caught.exception.args[0]),
            "阶段“校准方案评审”的赢率必须介于 0 到 100 % 之间。",
        )

    def test_fields_and_views_in_chinese(self):
        """The terms of the models and views are loaded from zh_CN.po."""
        Stage = self.env["crm.stage"].with_context(lang="zh_CN")
        description = Stage.fields_get(["gate_policy", "forecast_category"])
        self.assertEqual(description["gate_policy"]["string"], "关卡")
        self.assertEqual(
            [tuple(option) for option in description["gate_policy"]["selection"]],
            [("none", "无关卡"), ("warn", "警告"), ("block", "阻止")],
        )
        self.assertEqual(
            dict(description["forecast_category"]["selection"]),
            {
                "pipeline": "管道",
                "best_case": "最佳情况",
                "commit": "承诺",
                "closed": "已关闭",
            },
        )
        arch = (
            self.env["crm.lead"]
            .with_context(lang="zh_CN")
            .get_view(self.env.ref("crm.crm_lead_view_form").id, "form")["arch"]
        )
        for term in ("资格审查", "阶段历史", "本阶段退出标准：", "豁免放行"):
            self.assertIn(term, arch)
