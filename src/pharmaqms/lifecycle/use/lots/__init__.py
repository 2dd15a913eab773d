"""Batch-level signals: reports on one lot weighed against the product's other lots, and the
lot's life from production to the patient on one page."""
