"""Batch genealogy: what a lot was made from, where it went, and every record that hangs on it.

``service.genealogy`` answers for a lot, a serialised pack, an SSCC or an EPC URI with a typed
graph; ``service.recall_scope`` gives every location and customer a lot reached. The EPCIS part
runs the pure algorithm of :mod:`pharmaqms.platform.trace` on the events that indexed queries
find for the objects in question, never on the whole event table.
"""
