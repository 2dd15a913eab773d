"""``python -m pharmaqms`` runs the command line, as the installed ``pharmaqms`` script does."""

from pharmaqms.cli.main import app

app()
