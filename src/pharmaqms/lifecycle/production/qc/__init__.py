"""QC testing: specifications, results judged on entry, OOS investigations (FDA guidance, phase
I and II), out-of-trend detection, certificates of analysis.

What other modules call:

- ``status.qc_status_of_lot(session, lot_id) -> LotQcStatus``: the verdict (passed, pending,
  failed, under_investigation, no_specification; fail-closed), each test with its valid
  results, open investigations, open nonconformances, unassessed trends, approved certificates.
- ``results.record_result(session, *, actor, lot_id, sample_id, test_code, tested_at, value |
  text_value, unit, …) -> Recorded``: an entered result, judged at once; out of specification
  it opens an OOS investigation and holds the lot (``Recorded.investigation``).
- ``results.evaluate_lims_results(session, *, actor)``: takes over the LIMS results the
  platform received (``TestResult`` rows) and judges them; idempotent — run it after a LIMS
  delivery or from a scheduled job.
- ``investigations``: ``record_phase1``, ``record_phase2``, ``record_retest``; the steps are
  workflow transitions of ``oos_investigation`` (``qc.workflow.OOS_WORKFLOW``).
- ``certificates.prepare_certificate`` and ``printout.render_certificate`` (PDF).
"""
