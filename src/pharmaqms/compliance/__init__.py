"""Compliance: the regulations the company answers to, their requirements and the controls
(SOPs, system features, automated tests) that meet each one. Sits above the lifecycle modules
and below the web and command line."""
