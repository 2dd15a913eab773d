"""Technology transfer: the development recipe (formula, process with its critical process
parameters, critical quality attributes), approved by signature, and its transfer into
production through change control."""
