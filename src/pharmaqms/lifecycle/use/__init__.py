"""Use: the medicine in patients — adverse events, pharmacovigilance signals."""
