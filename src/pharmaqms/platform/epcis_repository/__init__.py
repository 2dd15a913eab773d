"""The EPCIS 2.0 repository: the standard's query interface over the captured events (REST
bindings, ``GET /api/v1/epcis/events``), named queries, a lot's events exported as one EPCIS
document, and the CBV 2.0 event hash findings (the same event arriving twice under different
eventIDs). Capture itself is the EPCIS connector's
(:mod:`pharmaqms.platform.connectors.epcis_store`).
"""
