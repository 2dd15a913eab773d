"""Records as a person reads them: on a printed report an inspector takes away, and in the audit
trail viewer on screen. One way of saying a time (``text.format_time``), one human reading of an
audit entry (``trail``), the ReportLab building blocks every printed record shares (``pdf``),
the sections modules add to a record's report (``sections``) and the generic report of any
registered record type (``record``)."""
