"""Signal detection (stub)."""
