"""Benchmark Sales Funnel Pro against stock CRM on the same data.

``make bench N=100000`` runs ``python3 tools/bench --n 100000``;
``python3 tools/bench --n 2000 --activities 20000`` is a quick check.

What it does (database ``funnel_bench`` unless ``--db``, a name starting with
``funnel_bench`` or ``bench_``, or ending with ``_bench``):

1. creates the database with ``crm`` only, without demo data (``odoo-bin -i crm``);
2. seeds it with set-based SQL: two sales teams, eight salespeople, a sales manager,
   customers, and N opportunities spread over the five stages of the professional
   funnel (the stock stages New, Qualified and Proposition are renamed Start,
   Needs confirmed and Solution & quote, and a Negotiation stage is added, so that
   stock and addon show the same columns), some won, some lost, with their chatter:
   a creation message and one stage-tracking message per past move (a few per
   opportunity, some backward, dated in the past), followers and next activities;
   then the activities: 1,000 more planned activities (the ones marked done by
   the measure, on open opportunities that had none, assigned to their
   salesperson) and ``--activities`` activities already done, as the chatter
   holds them (``mail_message`` rows of subtype Activities with their activity
   type, on random opportunities, written by their salesperson, dated over the
   past year): what stock ``crm.activity.report`` reads;
3. copies the seeded database to ``<db>_stock``, which stays stock ``crm``;
4. installs ``sales_funnel_pro`` on the seeded database (``odoo-bin -i``, timed: it
   includes the backfills by the post-init hook: the stage history from the
   tracking, and one activity log row per done activity of the chatter), applies
   the professional funnel template (timed) and ticks the checklist criteria of
   the opportunities that the moves use, so that their gate is checked and passes;
   sets targets (monthly per salesperson, quarterly per team, for the next
   twelve months) and computes the historical win rates once;
5. measures in-process, as the sales manager, the same operations on the same
   opportunities in both databases, the stock run and the addon run alternating
   (ABBA...), so that the load of a shared machine weighs on both alike; then a
   move that the gate blocks, ``_backfill_from_tracking`` on the seeded chatter
   (history emptied first, in the transaction rolled back afterwards) and
   ``_backfill_from_messages`` likewise (activity log emptied first).

Operations (medians over ``--repeat`` runs, after one warm-up run; every run is
rolled back, so each run starts from the same data; times include the flush and
the pre-commit hooks such as mail tracking, not the commit itself):

- stage move: ``write({'stage_id': next})`` on one opportunity (Start -> Needs
  confirmed), at least 25 runs per side;
- batch move: the same write on 1,000 opportunities at once (``--batch``);
- blocked move: the same write on one opportunity whose checklist is not ticked,
  refused by the gate (addon only);
- kanban load: what the web client asks for when it opens the pipeline kanban:
  ``web_read_group`` grouped by stage with the aggregates of the view's fields, the
  first page (40 cards) of every open column via ``web_search_read`` with the field
  specification of the real kanban arch (from ``get_views``, as the user sees it),
  and ``read_progress_bar``; once as the manager on the whole pipeline, once as a
  salesperson on "My Pipeline";
- activities done: ``action_feedback(feedback=...)`` on the 1,000 planned
  activities in one call, as the Mark Done of the activity views does (stock posts
  one chatter message each; the addon also logs each one);
- activity pivot: the ``read_group`` calls (``lazy=False``) that the web client's
  pivot makes when it opens, one per pair of leading row and column groupings,
  over the done activities: stock ``crm.activity.report`` as CRM > Reporting >
  Activities opens it (rows, columns and default filter "Trailing 12 months" of
  its action, measure count), the addon's ``funnel.activity.log`` as Reporting >
  Activity Log opens its pivot (the view's rows, columns and measure); then the
  same pivot on both, salesperson x activity type, count, no filter, once as the
  manager and once as a salesperson (whose record rules restrict the rows);
- forecast pivot: the same kind of ``read_group`` calls, stock's Forecast
  (CRM > Sales > Forecast: ``crm.lead`` by expected closing month and stage,
  prorated revenue, default filter "Upcoming Closings") against the addon's
  ``funnel.forecast.report`` as Reporting > Funnel Forecast opens its pivot
  (salesperson x month, expected and weighted revenue, won, target, coverage and
  gap, default filters "Next 12 Months" and "Exclude Omitted"); once as the
  manager (stock's default "My Pipeline" filter left out) and once as a
  salesperson (with it); after all other measures, once more with crm_lead
  compacted on both sides (VACUUM FULL, then VACUUM ANALYZE), for information:
  the addon's install and template leave a row version and index entries per
  opportunity that stock's freshly seeded table does not have;
- forecast snapshot: ``funnel.forecast.snapshot._take_snapshots()`` of the
  company, freezing every open opportunity (addon only);
- historical win rates: ``funnel.stage.win.rate._refresh()`` after the stage
  history has been brought to 1,000,000 rows in the transaction (its closed
  stays repeated: the rates must come out the same);
- conversion pivot: ``funnel.conversion.report`` as CRM > Reporting > Rep
  Capability > Conversion by Stage opens it (salesperson × stage, last 12
  months), against stock's Pipeline Analysis pivot as CRM > Reporting >
  Pipeline opens it, as the manager;
- rep benchmark: ``funnel.rep.benchmark._rebuild()``, as the nightly cron runs
  it (addon only);
- pipeline change pivot: after all other measures, two snapshots of the
  addon's open pipeline, the first dated a week back, one open opportunity in
  five changed between them (closing date, amount, category, won, lost, new);
  ``funnel.pipeline.change.report`` as the Pipeline Changes wizard opens it
  on the first snapshot (salesperson × change kind, amount and period deltas,
  count, default filter "Changed"), against stock's forecast pivot as the
  manager;
- backfills: ``funnel.stage.history._backfill_from_tracking()`` over all
  opportunities, ``funnel.activity.log._backfill_from_messages()`` over the
  done activities of the chatter.

Goals: stage move within 1.15x of stock, kanban load within 1.3x; backfill of 100,000
opportunities under 60 s; activity pivot within 1.5x of stock (with
``--activities`` 1,000,000); forecast pivot within 1.5x of stock; snapshot of
100,000 open opportunities under 10 s (scaled linearly from the open ones of the
run); historical win rates over 1,000,000 history rows under 10 s; conversion
pivot within 1.5x of stock's Pipeline Analysis; rep benchmark rebuild under 30 s;
pipeline change pivot within 1.5x of stock's forecast pivot.
The script
exits 0 once the table is printed, whether the goals are met or not. A second
table splits each median into the CPU time of this process (the Python side of
the server), the wall time of its SQL queries and their number. Timings are
wall-clock: run it on a quiet machine, and read the load average printed with the
tables.

The package, by concern:

- ``common``: names, progress log, the Odoo processes and databases;
- ``seed``: the SQL seed of the opportunities, their chatter and activities;
- ``stock``: the crm-only database, stock's views and default filters;
- ``addon``: the addon's install, template, targets, its business rules (imported
  from the addon) and every private method of the addon that the benchmark calls;
- ``runs``: one measured run, rolled back, and the interleaved comparison;
- ``webclient``: the requests of the kanban and the pivots, as the web client
  builds them from the views;
- ``measures``: the operations measured (moves, kanban, activities, pivots,
  forecast, snapshot, win rates, backfills);
- ``capability``: the conversion pivot and the rep benchmark rebuild, their
  goals and lines of the tables;
- ``pipeline_change``: the two snapshots, the changes between them and the
  pipeline change pivot, its goal and lines of the tables;
- ``goals``: the goals and the printed tables;
- ``main``: the command line and the order of the steps (``__main__`` runs it).
"""
