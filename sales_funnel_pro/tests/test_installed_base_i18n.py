from odoo.tests import TransactionCase, tagged

from .test_i18n import MODULE, ZH_CN_STAGES


@tagged("post_install", "-at_install")
class TestTemplateTranslatedLater(TransactionCase):
    """The professional funnel applied in English; Chinese installed afterwards:
    the template's stages and criteria get their Chinese names, except those the
    admin renamed."""

    def test_chinese_installed_after_the_template(self):
        Lang = self.env["res.lang"].with_context(active_test=False)
        zh = Lang.search([("code", "=", "zh_CN")])
        if zh.active:
            zh.active = False
        Stage = self.env["crm.stage"].with_context(active_test=False)
        Stage.search([("template_key", "!=", False)]).write({"template_key": False})
        self.env["funnel.template.wizard"].with_context(lang="en_US")._apply_template()
        stages = {
            key: Stage.search([("template_key", "=", key)]) for key in ZH_CN_STAGES
        }
        renamed = stages["negotiation"].with_context(lang="en_US")
        renamed.name = "Closing talks"

        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms([MODULE], ["zh_CN"])

        for key, name in ZH_CN_STAGES.items():
            stage = stages[key].with_context(lang="zh_CN")
            with self.subTest(stage=key):
                self.assertEqual(
                    stage.name, "Closing talks" if key == "negotiation" else name
                )
        criteria = stages["start"].with_context(lang="zh_CN").criterion_ids
        self.assertEqual(
            criteria.mapped("name"), ["预算已明确", "决策人已明确", "客户已关联"]
        )
        self.assertTrue(all(CJK in c.guidance for c in criteria for CJK in ["。"]))
        self.assertEqual(stages["start"].with_context(lang="en_US").name, "Start")
