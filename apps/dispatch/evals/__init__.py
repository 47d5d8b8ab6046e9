"""The assistant's own evaluation (issue 10): scripted customers, run through the real SMS path.

``data/businesses.yaml`` defines five businesses; ``data/scenarios/*.yaml`` the customers, each with
the final state it expects. ``runner.EvalRunner`` plays a scenario through signed Twilio webhooks,
the inbound task, the engine, the outbox and the Twilio stand-in, under a frozen clock and inside a
transaction that is rolled back; ``checks`` decides what passed. Used by
``manage.py assistant_eval`` and ``apps/dispatch/tests/test_evals.py``. See docs/evals.md.
"""
