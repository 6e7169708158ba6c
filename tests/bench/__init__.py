"""The issue #4 benchmark: free slots and the booking request, on SQLite and
PostgreSQL, against a floor. Run it with ``make bench`` or
``.venv/bin/python -m tests.bench [--db sqlite|postgresql|both] [--quick]
[--profile] [--save]``; figures go to stdout, progress to stderr.

What it does, for each database:

1. Builds a fresh database with the real migrations (``database.py``;
   SQLite: a temp file; PostgreSQL: ``BENCH_DATABASE_URL``, default
   ``test_bench``, whose public schema is dropped) and seeds it in bulk
   (``seed.py``): 10 therapists, 3 services, 4 weeks of bookings at about
   60 % of working hours, and one client per booking request, each with a
   fresh pre-booking re-screen.
2. Times free slots in process (``free_slots.py``): the pure
   ``slots.free_slots`` and the service ``available_slots`` with its
   queries, for one therapist-day and for all 10 therapists over a week.
3. Serves the real app (``clinic_app.py``) and the floor (``floor_app.py``:
   one conflict query, one insert) with gunicorn, 2 sync workers each
   (``server.py``), and sends each the same load (``runner.py``,
   ``load.py``): distinct logged-in clients (``clinic_client.py``) posting
   the real booking form (CSRF on) for distinct free slots (``plan.py``),
   at concurrency 1, 8 and 32, app and floor taking turns. Reports
   requests/s, p50, p99 and the CPU the workers (and the PostgreSQL
   backends) spent per request.
4. With ``--profile`` (``profile_booking.py``), books a few sessions in
   process and reports the SQL statements, how long the lock is held and
   cProfile's top functions.

Targets (``report.py``): a week of free slots for all 10 therapists under
25 ms median; booking throughput at concurrency 8 at least half the floor's,
with p99 under 3 times the floor's, on each database.

Nothing here is a test: no module is named ``test_*`` and importing one
starts nothing (the apps are built by factories gunicorn calls).
"""
