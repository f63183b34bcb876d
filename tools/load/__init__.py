"""Load run: Sales Funnel Pro on Odoo's prefork workers, under concurrent
clients, against stock CRM on the same data.

``make load`` runs ``python3 tools/load --seconds 120 --clients 8``; ``make
test`` ends with a short run (``--seconds 30 --clients 4``).

What it does (database ``funnel_load`` unless ``--db``, a name containing
``load``; stock crm runs on its copy ``<db>_stock``; both are dropped at the
end unless ``--keep-db``):

1. seeds the database as the bench does (``tools/bench/seed.py``: crm without
   demo data, the stages of the professional funnel, two teams, eight
   salespeople, a sales manager, N opportunities with their chatter and planned
   activities), gives the users a password and copies it to ``<db>_stock``;
2. installs the addon on ``<db>``, applies the professional funnel through its
   template wizard; on four of every five cards that the clients work on, ticks
   the checklist items of every stage and logs a meeting (the demo a stage asks
   for): the gates let their moves pass and refuse the moves forward of the
   fifth card;
3. starts one Odoo server for both databases with ``--workers=4
   --max-cron-threads=1`` on 127.0.0.1 only (``--port``, 8169, and the next port
   for its gevent worker), its log at INFO for ``odoo.service.model`` (the
   retries of serialization failures and deadlocks);
4. runs K clients (``--clients``; every fourth one the sales manager, the others
   salespeople two by two on the same cards, the manager on all of them) through
   the web client's JSON-RPC requests (see ``client.py``), first a few seconds of
   reads to load the registries in the workers, then ``--seconds`` per side, the
   sides alternating in two rounds; each client stops by itself at the end;
5. stops the server, then verifies on the addon's database: every opportunity's
   history is one contiguous chain (each row's from-stage is the previous row's
   stage, exactly one open row, the last row is the current stage), one history
   row per accepted move (crm's own stage tracking counts them), the current
   checks are those of the current stage, one log row per activity done; and on
   both sides: no HTTP status other than 200, no unexpected error in a response
   (a gate's refusal and a record already gone are expected), no ERROR line in
   the server's log, no request that gave up retrying;
6. prints the counts of both sides, the concurrency failures that Odoo retried,
   the verification and the throughput: accepted moves per second, of the addon
   against stock (goal: at least 0.8x; informative, a shared machine moves it),
   and the requests per second of both sides (the moves refused by the gates
   and what follows them, a waiver or a checklist ticked, take their share of
   the clients' time on the addon's side).

The exit code is 1 when a check fails (the server's log is then kept).

The package: ``prepare`` (databases, seed, template, the clients' cards),
``server`` (the Odoo process and its log), ``client`` (the clients' requests),
``verify`` (the checks, in SQL), ``main`` (the command line, the steps, the
report).
"""
