import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools.misc import file_path
from odoo.tools.translate import TranslationModuleReader

MODULE = "sales_funnel_pro_sale"


@tagged("post_install", "-at_install")
class TestBridgeI18n(TransactionCase):
    """The bridge's .pot follows its code and zh_CN translates all of it."""

    def test_pot_up_to_date(self):
        pot = polib.pofile(file_path(f"{MODULE}/i18n/{MODULE}.pot"))
        reader = TranslationModuleReader(self.env.cr, modules=[MODULE])
        exported = {row[4] for row in reader if row[0] == MODULE}
        self.assertEqual({entry.msgid for entry in pot}, exported)

    def test_zh_cn_complete(self):
        pot = polib.pofile(file_path(f"{MODULE}/i18n/{MODULE}.pot"))
        zh_cn = polib.pofile(file_path(f"{MODULE}/i18n/zh_CN.po"))
        translated = {
            entry.msgid for entry in zh_cn if entry.msgstr and not entry.obsolete
        }
        self.assertEqual(
            [entry.msgid for entry in pot if entry.msgid not in translated], []
        )
