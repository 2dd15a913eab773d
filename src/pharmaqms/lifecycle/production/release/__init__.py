"""Rule-based batch release with review by exception.

- ``service.evaluate_release(session, lot_id) -> Evaluation``: every rule of ``rules.RULES``
  over the evidence ``evidence.gather`` loads in a fixed number of queries; each rule passes or
  fails with its findings and the evidence it looked at; fails closed.
- ``service.release_batch`` ("Released", qualified person only, refused while a rule fails) and
  ``service.reject_batch`` ("Rejected", with a reason): the lot's status follows through
  ``platform.masterdata.service.set_lot_status``; the release cycle time is recorded.
- ``certificate.render_release_certificate``: the PDF.
"""
