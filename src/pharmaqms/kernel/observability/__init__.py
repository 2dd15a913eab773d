"""What an operator watches a running installation by: the request id and the one JSON line
per request (``requests``), Prometheus metrics (``metrics``), liveness and readiness
(``health``), and the per-address limits of the public pages kept in the database so that any
number of processes count together (``ratelimit``)."""
