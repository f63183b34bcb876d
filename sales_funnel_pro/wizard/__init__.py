from . import funnel_gate_waiver
from . import funnel_template_wizard
from . import funnel_activity_quick_log
from . import funnel_activity_quick_log_care
from . import funnel_lead_import
from . import funnel_lead_mass_update
from . import funnel_handover_wizard
from . import funnel_opportunity_found
