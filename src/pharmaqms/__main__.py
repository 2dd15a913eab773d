from pharmaqms.cli.main import app

app()
