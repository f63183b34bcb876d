from . import funnel_stage_criterion
from . import crm_lead
from . import sale_order
from . import product_template
