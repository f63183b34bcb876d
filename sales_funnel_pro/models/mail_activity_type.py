from odoo import api, fields, models
from odoo.exceptions import ValidationError


class MailActivityType(models.Model):
    _inherit = "mail.activity.type"

    default_duration = fields.Float(
        default=1.0,
        help="Hours usually spent on an activity of this type: the logged duration "
        "when nobody says otherwise.",
    )

    @api.constrains("default_duration")
    def _check_default_duration(self):
        for activity_type in self:
            if not 0 < activity_type.default_duration <= 24:
                raise ValidationError(
                    self.env._(
                        "The default duration of “%(type)s” must be more than 0 and at "
                        "most 24 hours.",
                        type=activity_type.name,
                    )
                )
