"""Compliance documents for submissions (CTD Module 3): the stability summary (3.2.P.8), the
process development summary (3.2.P.2) and the batch analyses (3.2.P.5.4), generated from the
data, frozen as PDF and signed."""
