from . import funnel_effort_report
