"""Electronic batch records: the equipment register, master batch records (controlled documents
of type ``master_batch_record`` with their structured ISA-88 steps) and the executed batch
record of each batch, with review by exception.

What other modules call:

- ``masters.define_master_batch_record`` / ``edit_master_batch_record`` /
  ``revise_master_batch_record``; approval through document control; ``masters.require_effective``.
- ``service.open_batch_record(session, *, actor, master_id, lot_number)``; ``start_step``,
  ``perform_step`` ("Performed"), ``verify_step`` ("Verified", never by the performer),
  ``complete_batch_record`` ("Reviewed"; sets the lot's ``manufacturing_ended_at``),
  ``raise_step_deviation`` (a deviation naming the batch, in one step).
- ``entries.dispense_material`` (lot checked by ``materials.service.require_material_usable``),
  ``record_value`` (judged against the limits at entry), ``take_reading`` (from the platform's
  process readings), ``use_equipment`` (qualification and calibration checked),
  ``correct_entry``.
- ``exceptions.exceptions_of``, ``review_exception`` (QA: accept or refer, "Reviewed"),
  ``raise_deviation_for_exception``.
- ``equipment.register_equipment``, ``record_calibration``, ``record_qualification``,
  ``standing_at`` (pure: was it usable at a moment, optionally with hindsight).
"""
