"""Serial number management (EU FMD / DSCSA): commissioning ranges per GTIN and lot, and the
verification of a pack by pharmacies and wholesalers. A pack's state comes from the platform
(its EPCIS history and its lot's status, :mod:`pharmaqms.platform.genealogy.packs`), never from
production directly."""
