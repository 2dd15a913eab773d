"""Recall execution (EU GDP Guidelines ch. 6; 21 CFR 7 subpart C): a recall record over the
platform's genealogy — its scope computed from the EPCIS events, classification and strategy
signed by QA, the lots recalled through the platform, a notification list acknowledged per
customer, returns reconciled against what was shipped, and mock recalls timed."""
