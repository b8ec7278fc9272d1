"""Safe to move? Whether a service still answers correctly when its requests really run in parallel.

Two checks, each a module of its own, both recorded in ``results/safety.py``:

- ``responses.py``: the requests of the load, recorded once (``recording.py``), replayed
  to 3.14t one at a time (the reference), to 3.14t and to 3.14 at the load's
  concurrency (``replay.py``), every answer judged against the reference
  (``judge.py``, ``bodies.py``, what the team excluded: ``team_config.py``);
- ``suite.py``: the team's tests, run plainly and in threads with pytest-run-parallel on
  both interpreters (``pytest_runs.py``), crashes and hangs isolated, each test
  classified.

The stage uses measure (servers, Locust sessions), plan, results, provision and core;
the analysis and the reports read its records from results, never this package.
"""
