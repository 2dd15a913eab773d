"""Compliance: the regulations the company answers to, their requirements and the controls
(SOPs, system features, automated tests) that meet each one; and the annual product quality
review (``compliance.apqr``), which reads every lifecycle module. Sits above the lifecycle modules
and below the web and command line."""
