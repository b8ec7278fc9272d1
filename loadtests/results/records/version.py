"""The one version of run.json and summary.json.

``SCHEMA_VERSION`` history (each bump comes with a step in ``migrations.py``; old
files are kept as test fixtures under ``tests/fixtures/run-json/``):

1. The first contract: cells as loose objects; keys added over time (``outcome``,
   ``client_pids``, ``server_sampling``, ``app_urls``, ``plan``) may be missing from
   older files; ``microbench.summary`` stored beside its points.
2. Typed records: every key is present in every cell (null when it does not apply),
   ``latency_ms`` is null without requests, ``/lab/runtime`` answers have a fixed
   shape, external apps' interpreters carry their ``url``, the microbenchmark's
   summary is derived on read, the audit is stored with its verdict, and the
   validity thresholds are recorded in the settings.
3. Paired windows: cells are windows of a comparison (``comparison_id``, ``block``,
   ``slot``, ``window_start``), each comparison's stopping is recorded
   (``comparisons``), every server's steady-state warm-up is recorded (``warmups``),
   memory is sampled as PSS and USS besides RSS, the server's CPU per thread group
   (``server_thread_cores``), the plan carries ``transition_s``, ``precision`` and
   ``max_time_s``, and ``config_id`` names the CPU ids and the drop-in directories.
   ``summary.json`` (the machine-readable verdict) appears beside ``run.json``.
4. Open-loop windows and capacity: cells carry ``load_model``, ``target_rps``,
   ``arrivals``, ``latency_corrected_ms`` (from the intended send) and ``open_loop``
   (offered and achieved rates, drops, late sends, scheduling lag); ``Latency`` gains
   ``p90``; the run records each ``capacities`` search; summary.json gains a
   ``capacity`` list, and a ``tuned`` list (each side's best setting, with 3.14t against it
   at equal settings and best against best) when a side ran at several. Distributed load: the settings record the workers expected from
   other machines (``expect_workers``) and where the master listened
   (``locust_master``); each cell lists its Locust workers (``load_workers``: host,
   address, versions, clock offset at join, own CPU, requests, whether it left).
   A team's own service: configurations and cells carry ``service`` (the app, the
   sha256 of the lock its environment was installed from and of the Locust file;
   ``config_id`` names them), the settings carry ``service`` (the app, its directory,
   requirements, Locust file with its user classes and their ``wait_time``, both
   environments with the versions that differ, the app's route table per interpreter,
   the preflight requests) and ``team_scenarios`` (no claim verdict for them), and the
   run carries ``gil_culprits`` (each module that turned the GIL on, the distribution
   that ships it and the remedies).
5. Safety: the run carries ``safety`` (``safety.py``: the team's answers checked under
   parallel load against a serial reference, and its tests run plainly and in threads on
   both interpreters), and summary.json a ``safety`` object (races by endpoint and test);
   both null when no safety check ran. ``gil-lab safety`` writes a run with no cells.
6. The diagnosis's evidence: the run carries ``probes`` (the per-endpoint scaling
   probe: raw steps per endpoint, interpreter and thread count, its control, the
   globals each endpoint reads with their immortality), ``profiling`` (how perf sampled,
   or why it could not) and ``profiles`` (each headline server's profile window: causes,
   hottest native functions, thread kinds, Python-level stacks, folded files); the plan
   carries ``probe`` and ``profile``; a window's ``server_thread_cores`` name each
   thread's ``kind`` as the server's layer said it; the preflight keeps each request's
   ``query``, ``body_base64`` and ``content_type``; the audit tells the app's own import
   (``app_gil_enabled``, ``app_enabled_by``) from distributions that would turn the GIL on
   if imported (``would_enable``, verdict ``requirement-needs-gil``). ``summary.json``
   gains ``diagnosis`` (every finding with its ``evidence``), ``probe`` and
   ``profile_causes``.
7. Hidden variables controlled and recorded: the run's ``bytecode`` (per interpreter:
   compiled by the lab first or from source, the cache prefix, what was compiled, the
   shell's bytecode variables), and each ``/lab/runtime`` answer's ``bytecode`` (how many
   of the server's modules came from bytecode, which from source). Replication at the level
   that separates runs: each window names its server ``instance`` and its ``hash_seed``, and
   warm-ups record theirs with the completions they judged, start-up time and idle memory.
   What else moved a window: ``steal``, ``foreign_cpu_cores``, ``lab_cpu_cores``, ``cpu_mhz``,
   the ``drain_s`` before it; a window the machine made ``noisy`` and that was measured again
   is ``superseded``. Comparisons record the two-stage plan (``pilot_pairs``,
   ``pilot_log_sd``, ``planned_pairs``), their ``instances`` and ``noisy_repeats``; the plan
   its ``instances``; the validity thresholds the noisy-window bounds. The machine records
   its ``microcode`` and whether it is ``virtualized``.
8. Crashes, hangs and memory growth: a cell carries ``crash`` (the traceback of a server
   that died and the requests it had in flight) and ``hang`` (requests in flight beyond
   the window's hang bound, with every thread's stack), its outcome can be ``hung`` and a
   comparison can stop on ``server hung``; ``safety`` gains ``soak`` (each interpreter's
   memory and threads under a steady load); summary.json's ``safety`` object gains
   ``crashes``, ``hangs`` and ``memory`` (the growth per 1,000 requests with its
   interval) and is present whenever a run found or measured any of them.
9. Capacity with an interval: open-loop windows count every arrival from the
   generator's schedule log (``open_loop`` gains ``unanswered``, ``failed``,
   ``over_slo``, ``over_slo_blocks``, ``answer_cutoff_s`` and ``slo_ms``), and their
   ``p95_ci`` is an order-statistic bound widened for bursts (its upper end may be
   null); each capacity step carries its ``arrivals``, ``misses``, ``miss_blocks``,
   ``p95_ci_ms`` and ``phase``; each search its ``method`` (``bracket`` for the
   searches of older runs), the fitted curve (``fit``), the capacity's ``ci_low`` and
   ``ci_high``, its ``arrivals``, ``precision_target`` and ``phase``; the capacity
   policy its arrivals per step and precision. summary.json's ``capacity`` entries gain
   ``ci_low``, ``ci_high`` and ``method``, and the summary a ``capacity_ratios`` list.
"""

SCHEMA_VERSION = 9
