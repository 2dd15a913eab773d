"""Production KPIs computed from the data: batch failure rate per product and month, right
first time, release cycle time (median and 90th percentile), OOS rate per test, and the process
capability trend of the monitored parameters (``service.production_kpis``); charts as
server-rendered SVG (``charts``)."""
