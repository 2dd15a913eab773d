"""Configuration as controlled records: the settings, checklists, matrices and workflow
signature rules a site's SOPs fix, kept as versioned records that QA changes through change
control, so the configuration in force at any past moment can be reconstructed (``store``)."""
