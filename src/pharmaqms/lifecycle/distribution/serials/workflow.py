"""Who may manage and verify serial numbers. A serial range has no states of its own (it is
declared once, audited); a verification is an answer, recorded."""

from __future__ import annotations

from pharmaqms.kernel.roles import grant

# Declaring a lot's serials is the marketing-authorisation holder's act (EU FMD Art. 33).
grant("serials.manage", "admin", "qa", "logistics")
# Wholesalers and pharmacies verify through an integration account; logistics and QA by hand.
grant("serials.verify", "admin", "qa", "logistics", "qualified_person", "integration")
