"""The electronic lab notebook: R&D projects, experiment templates per experiment type,
experiments and their entries (content, results, conclusions, raw data files).

What a scientist writes is encrypted at rest with the project's data key (envelope encryption,
``crypto``); each entry is hashed and signed with the installation's Ed25519 key when its
author signs it (``integrity``), co-signed by a witness, never edited after signing (an
amendment is a new entry pointing at the one it amends), and disclosed to an inspector entry
by entry (``disclosure``)."""
