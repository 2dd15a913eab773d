"""The one error of signal detection: input the statistics cannot work with."""

from __future__ import annotations

from pharmaqms.kernel.errors import InvalidInput


class SignalInputError(InvalidInput):
    """A table, a prior, rows or a file that cannot be scored (rendered once: problem+json
    in the API, one line and exit code 2 on the command line)."""

    code = "signal_input_invalid"
    title = "Signal detection input invalid"
