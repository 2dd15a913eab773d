"""Real-time process monitoring (SPC): monitored parameters (CPPs and CQAs of a product's step,
in ISA-88 terms), control limits estimated from a reference period and approved by signature,
the eight Nelson (or four Western Electric) rules switchable per parameter, Hotelling T² over
correlated parameters, live evaluation of every process reading the platform stores, alerts
acknowledged with a comment or escalated to a deviation, capability.

The seam with the platform: ``live`` registers ``LIVE.on_readings`` with
``platform.timeseries.arrivals``; every connector that stores a process reading hands it over
after its delivery's commit (see ``live`` for how the monitors stay in step with storage).

What other modules call:

- ``capability.capability_trend(session, parameter_id, months=12) -> list[MonthlyCapability]``:
  Cp, Cpk, Pp, Ppk per calendar month (UTC), oldest first, ending with the current month; a
  month without enough points has None indices and a ``reason``. The production KPIs read it.
- ``capability.capability(session, parameter_id, *, start, end) -> Capability``: one window.
- ``alerts.list_alerts(session, status=…, parameter_id=…, group_id=…)``: e.g. open SPC alerts
  of a batch's parameters for the release rules (``ProcessAlert.batch_id`` names the batch).
- ``service.list_parameters(session, product_code=…)``, ``limits.limits_in_force``.
"""
