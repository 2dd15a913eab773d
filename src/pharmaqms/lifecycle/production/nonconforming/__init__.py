"""Nonconforming product: hold, disposition (rework, reprocess, reject, destroy, release under
concession) with QA's signature and, for a concession, the Qualified Person's.

What other modules call (``nonconforming.service``):

- ``open_nonconformance(session, *, actor, lot_id, source_type, source_id, source_label,
  description)``: open a record for a lot and hold it (a confirmed OOS does this itself).
- ``open_for_critical_deviation(session, *, actor, deviation: DeviationFacts)`` and, reading the
  deviation from the quality layer, ``deviations.open_for_deviation(session, *, actor,
  deviation_id)`` / ``deviations.open_for_critical_deviations(session, *, actor)`` (a sweep):
  a critical deviation makes each of its batches nonconforming product. The quality layer has
  no classification hook yet; its owner can call ``open_for_deviation`` from there.
- ``list_nonconformances(session, lot_id=…, status=…)``: the release rules look for open ones.
"""
