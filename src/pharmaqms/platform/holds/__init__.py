"""Lot holds: which record holds a lot, since when, from which status, and when it was lifted."""
