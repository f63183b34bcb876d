from odoo import models

from ..wizard.funnel_template_wizard import PROFESSIONAL_FUNNEL

MODULE = "sales_funnel_pro"


class IrModuleModule(models.Model):
    _inherit = "ir.module.module"

    def _load_module_terms(
        self, modules, langs, overwrite=False, imported_module=False
    ):
        """A language installed after the professional funnel was applied: its
        stages and criteria get their names in that language too (those the admin
        has not renamed)."""
        result = super()._load_module_terms(
            modules, langs, overwrite=overwrite, imported_module=imported_module
        )
        if MODULE in modules and "crm.stage" in self.env:
            self._funnel_translate_template(
                [lang for lang in langs if lang != "en_US"], overwrite
            )
        return result

    def _funnel_translate_template(self, langs, overwrite=False):
        if not langs:
            return
        Stage = (
            self.env["crm.stage"].sudo().with_context(lang="en_US", active_test=False)
        )
        Criterion = (
            self.env["funnel.stage.criterion"]
            .sudo()
            .with_context(lang="en_US", active_test=False)
        )
        stages = {
            stage.template_key: stage
            for stage in Stage.search([("template_key", "!=", False)])
        }
        for key, name, *__, criteria in PROFESSIONAL_FUNNEL:
            stage = stages.get(key)
            if not stage:
                continue
            self._funnel_translate(stage, {"name": name}, langs, overwrite)
            by_key = {
                criterion.template_key: criterion
                for criterion in Criterion.search(
                    [("stage_id", "=", stage.id), ("template_key", "!=", False)]
                )
            }
            for criterion_key, criterion_name, guidance, *__ in criteria:
                criterion = by_key.get(criterion_key)
                if criterion:
                    self._funnel_translate(
                        criterion,
                        {"name": criterion_name, "guidance": guidance},
                        langs,
                        overwrite,
                    )

    def _funnel_translate(self, record, terms, langs, overwrite):
        """Translate the fields ``terms`` ({field: lazy term}) of ``record`` in
        ``langs``, when its English value is still the template's."""
        for field_name, term in terms.items():
            if record[field_name] != term._translate("en_US"):
                continue
            translated = {}
            for lang in langs:
                current = record.with_context(lang=lang)[field_name]
                value = term._translate(lang)
                if value and (overwrite or current == record[field_name]):
                    translated[lang] = value
            if translated:
                record.update_field_translations(field_name, translated)
