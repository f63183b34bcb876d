"""What the databases say after the run: each check is a query that returns the
offending rows (none: the check passes), and the counts of the run."""

from odoo.modules.registry import Registry

# every opportunity's history is one contiguous chain: the rows written during
# the run follow the previous row (the rows backfilled at install copy the
# seeded chatter, whose back-and-forth moves do not chain), exactly one row is
# open, the last one, in the current stage
CHAIN_SQL = """
WITH h AS (
    SELECT h.lead_id, h.id, h.stage_id, h.stage_from_id, h.is_open, h.create_date,
           lag(h.stage_id) OVER w AS previous_stage,
           lag(h.id) OVER w AS previous_id,
           row_number() OVER (PARTITION BY h.lead_id ORDER BY h.date_in DESC, h.id DESC)
               AS from_last
      FROM funnel_stage_history h
    WINDOW w AS (PARTITION BY h.lead_id ORDER BY h.date_in, h.id)
)
SELECT lead_id, id, 'from-stage is not the previous row''s stage'
  FROM h WHERE previous_id IS NOT NULL AND create_date >= %(since)s
   AND stage_from_id IS DISTINCT FROM previous_stage
UNION ALL
SELECT lead_id, id, 'open row that is not the last one'
  FROM h WHERE is_open AND from_last > 1
UNION ALL
SELECT h.lead_id, h.id, 'last row is not the current stage'
  FROM h JOIN crm_lead l ON l.id = h.lead_id
 WHERE h.from_last = 1 AND h.stage_id IS DISTINCT FROM l.stage_id
UNION ALL
SELECT l.id, NULL, 'not exactly one open row'
  FROM crm_lead l
  JOIN funnel_stage_history h ON h.lead_id = l.id
 GROUP BY l.id HAVING count(*) FILTER (WHERE h.is_open) <> 1
"""
# a history row per stage move, the moves counted by crm's own tracking
MOVES_SQL = """
WITH tracked AS (
    SELECT m.res_id AS lead_id, count(*) AS moves
      FROM mail_tracking_value v
      JOIN mail_message m ON m.id = v.mail_message_id
     WHERE v.field_id = %(field)s AND m.model = 'crm.lead'
       AND v.create_date >= %(since)s
     GROUP BY m.res_id
), recorded AS (
    SELECT lead_id, count(*) AS moves FROM funnel_stage_history
     WHERE create_date >= %(since)s AND event IN ('enter', 'won')
     GROUP BY lead_id
)
SELECT COALESCE(t.lead_id, r.lead_id), t.moves, r.moves
  FROM tracked t FULL JOIN recorded r ON r.lead_id = t.lead_id
 WHERE t.moves IS DISTINCT FROM r.moves
"""
# the current checks are those of the criteria of the current stage, once each
CHECKS_SQL = """
SELECT l.id, k.id, 'criterion of the current stage without a current check'
  FROM crm_lead l
  JOIN funnel_stage_criterion k ON k.stage_id = l.stage_id AND k.active
 WHERE l.active AND l.type = 'opportunity'
   AND NOT EXISTS (SELECT 1 FROM funnel_lead_check c
                    WHERE c.lead_id = l.id AND c.criterion_id = k.id AND c.is_current)
UNION ALL
SELECT c.lead_id, c.criterion_id, 'current check of another stage'
  FROM funnel_lead_check c
  JOIN funnel_stage_criterion k ON k.id = c.criterion_id
  JOIN crm_lead l ON l.id = c.lead_id
 WHERE c.is_current AND k.stage_id IS DISTINCT FROM l.stage_id
UNION ALL
SELECT lead_id, criterion_id, 'two checks of one criterion'
  FROM funnel_lead_check GROUP BY lead_id, criterion_id HAVING count(*) > 1
"""
# a log row per activity done (the chatter message that mail posts for it)
DONE_SQL = """
WITH posted AS (
    SELECT res_id AS lead_id, count(*) AS done FROM mail_message
     WHERE model = 'crm.lead' AND mail_activity_type_id IS NOT NULL
       AND create_date >= %(since)s
     GROUP BY res_id
), logged AS (
    SELECT lead_id, count(*) AS done FROM funnel_activity_log
     WHERE source = 'done' AND create_date >= %(since)s
     GROUP BY lead_id
)
SELECT COALESCE(p.lead_id, g.lead_id), p.done, g.done
  FROM posted p FULL JOIN logged g ON g.lead_id = p.lead_id
 WHERE p.done IS DISTINCT FROM g.done
"""
COUNT_SQL = {
    "stage moves (crm's tracking)": """
        SELECT count(*) FROM mail_tracking_value v
          JOIN mail_message m ON m.id = v.mail_message_id
         WHERE v.field_id = %(field)s AND m.model = 'crm.lead'
           AND v.create_date >= %(since)s""",
    "activities done (chatter)": """
        SELECT count(*) FROM mail_message
         WHERE model = 'crm.lead' AND mail_activity_type_id IS NOT NULL
           AND create_date >= %(since)s""",
}
ADDON_COUNT_SQL = {
    "history rows opened": """
        SELECT count(*) FROM funnel_stage_history WHERE create_date >= %(since)s""",
    "history rows of waived moves": """
        SELECT count(*) FROM funnel_stage_history
         WHERE create_date >= %(since)s AND gate_waived""",
    "activity log rows (done)": """
        SELECT count(*) FROM funnel_activity_log
         WHERE create_date >= %(since)s AND source = 'done'""",
    "activity log rows (quick log)": """
        SELECT count(*) FROM funnel_activity_log
         WHERE create_date >= %(since)s AND source = 'quick'""",
    "checks ticked or waived": """
        SELECT count(*) FROM funnel_lead_check WHERE write_date >= %(since)s
           AND state IN ('met', 'waived')""",
}
CHECKS = [
    ("history: one contiguous chain per opportunity", CHAIN_SQL),
    ("history: one row per accepted move", MOVES_SQL),
    ("checks: consistent with the current stage", CHECKS_SQL),
    ("activity log: one row per activity done", DONE_SQL),
]


def stage_field(cr):
    cr.execute(
        "SELECT id FROM ir_model_fields WHERE model = 'crm.lead' AND name = 'stage_id'"
    )
    return cr.fetchone()[0]


def database_counts(db, since, addon):
    with Registry(db).cursor() as cr:
        params = {"since": since, "field": stage_field(cr)}
        counts = {}
        for label, query in {**COUNT_SQL, **(ADDON_COUNT_SQL if addon else {})}.items():
            cr.execute(query, params)
            counts[label] = cr.fetchone()[0]
        return counts


def verify(db, since):
    """Run the checks on the addon's database: [(label, offending rows)]."""
    results = []
    with Registry(db).cursor() as cr:
        params = {"since": since, "field": stage_field(cr)}
        for label, query in CHECKS:
            cr.execute(query, params)
            results.append((label, cr.fetchall()))
    return results
