"""Notifications by e-mail: what is waiting for whom (a new task, one due soon or overdue, an
escalation, a cold-chain alarm), queued in an outbox in the transaction that caused it and sent
after commit through SMTP — or held for a person's daily digest, or kept in-app only when no
SMTP server is configured. Nothing is lost when the server is down: it is tried again later."""
