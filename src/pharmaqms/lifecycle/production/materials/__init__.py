"""Materials and suppliers: the approved supplier list, incoming material lots, the suppliers'
certificates of analysis, the scan of a container, and whether a lot may be used.

What other modules call (all in ``materials.service`` unless named):

- ``check_material_for_use(session, lot, *, at, expected_material=None) -> list[UseBlock]``:
  every reason a lot may not be used at ``at`` (``code`` + ``message``): wrong material, not
  released (quarantine, on hold, rejected, recalled), expired (computed from the date), no
  expiry date, no supplier, supplier not approved for the material, qualification expired.
- ``require_material_usable(session, lot, *, at, expected_material=None, batch_reference="")``:
  for dispensing; returns ``None`` (usable) or the QA override that covers every reason, and
  raises ``MaterialNotUsable`` (409, ``reasons`` and ``codes`` in the problem) otherwise.
- ``override_material_use(session, *, actor, lot_id, justification, password, batch_reference,
  valid_until=None)``: QA's signed override of the reasons found now (never of a wrong
  material, a rejected or a recalled lot).
- ``scan.scan(session, text, *, at, expected_material=None) -> ScanAnswer``: what a scanned
  GS1 barcode is and whether it may be used.
- ``receive_material_lot``, ``attach_certificate``, ``propose_supplier``,
  ``record_supplier_audit``, ``standing`` (is a supplier approved for a material on a day).
"""
