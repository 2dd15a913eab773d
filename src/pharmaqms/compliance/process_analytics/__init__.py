"""Process analytics: where the time of a quality process goes, read from the workflow audit
trail (the status changes) and the task inbox (who is waited for). Reads, never writes."""
