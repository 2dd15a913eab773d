"""Periodic safety summaries (PSUR/PBRER-style tabulations) per product and period, signed by
the QPPV as a PDF that is stored and never changed."""
