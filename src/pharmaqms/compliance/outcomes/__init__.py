"""The paper's outcome dashboard: one page of the figures the quality system is judged by,
each computed from the records with its definition stated, month by month, and each month
drilling down to the records behind it (``figures``, ``views``)."""
