from . import funnel_gate_waiver
from . import funnel_template_wizard
