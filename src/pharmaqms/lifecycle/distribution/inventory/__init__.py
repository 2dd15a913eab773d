"""Inventory for distribution: FEFO picking proposals, expiry reminders and reorder points, on
the platform's stock on hand (``pharmaqms.platform.inventory``). Nothing here writes: a
proposal is advice the warehouse acts on, and the movements it makes come back through the
WMS/TMS connector."""
