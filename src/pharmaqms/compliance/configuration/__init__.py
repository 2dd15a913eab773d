"""Configuration changes under change control: a new version of a configuration key is
drafted (refused at once if malformed or if it would break a control the code demands),
tested on a sandbox run against the current records, approved with QA's e-signature (not the
drafter's) under an approved change control, and in force from its effective date.

The store itself and the reading of the version in force are the kernel's
(``kernel/configuration``); this module holds the verbs that change it."""
