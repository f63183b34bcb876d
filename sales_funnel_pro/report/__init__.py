from . import funnel_report_figures
from . import funnel_report_target
from . import funnel_target_month
from . import funnel_effort_report
from . import funnel_forecast_report
from . import funnel_accuracy_report
from . import funnel_accuracy_trend
from . import funnel_conversion_report
