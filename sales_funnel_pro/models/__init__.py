from . import funnel_job
from . import funnel_job_run
from . import crm_stage
from . import funnel_stage_criterion
from . import funnel_lead_check
from . import funnel_stage_history
from . import funnel_stage_history_backfill
from . import funnel_stage_pass

# crm.lead by concern, innermost first (see crm_lead.py)
from . import crm_lead
from . import crm_lead_history
from . import crm_lead_activity
from . import crm_lead_forecast
from . import crm_lead_gate
from . import crm_lead_gate_create
from . import funnel_activity_log
from . import mail_activity_type
from . import mail_activity
from . import calendar_event
from . import funnel_target
from . import funnel_stage_win_rate
from . import funnel_forecast_snapshot
from . import funnel_forecast_snapshot_line
from . import funnel_forecast_submission
from . import funnel_forecast_submission_current
from . import funnel_demo_generator
from . import res_company
from . import res_config_settings
from . import funnel_rep_benchmark
from . import funnel_rep_benchmark_data
from . import funnel_rep_benchmark_build

# installed base and hand-off
from . import funnel_asset_category
from . import funnel_installed_asset
from . import funnel_installed_asset_phase
from . import crm_lead_handoff
from . import crm_lead_replacement
from . import res_partner
from . import funnel_activity_log_care
from . import mail_activity_care
from . import funnel_job_life_phase
from . import ir_module_module
from . import crm_lead_pipeline_change
