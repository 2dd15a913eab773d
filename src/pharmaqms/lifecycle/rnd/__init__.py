"""Research and development: experiment records (the electronic lab notebook, ``eln``),
encrypted at rest and signed entry by entry."""
