from . import funnel_template_wizard
from . import funnel_handover_wizard
