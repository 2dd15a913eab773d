"""Inventory on the platform: movements of lots between locations (written by the WMS/TMS
connector, by EPCIS receiving and shipping events and by ``load_lot``), and what they add up
to — stock on hand per location, lot and status, and units shipped per lot. The distribution
module builds FEFO picking, expiry reminders and reorder points on these read functions."""
