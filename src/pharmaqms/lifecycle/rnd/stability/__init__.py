"""Stability studies and shelf life (ICH Q1A(R2), Q1E): protocols with their storage
conditions, time points, batches and attributes with specifications; pulls scheduled as tasks;
results entered or taken over from the LIMS (unknown batch or time point: quarantined, never
dropped); out-of-trend flags; and the Q1E shelf-life estimate with its chart (``q1e``,
``chart``)."""
