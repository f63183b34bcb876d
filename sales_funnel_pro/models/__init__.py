from . import crm_stage
from . import funnel_stage_criterion
from . import funnel_lead_check
from . import funnel_stage_history
from . import crm_lead
from . import funnel_activity_log
from . import mail_activity_type
from . import mail_activity
