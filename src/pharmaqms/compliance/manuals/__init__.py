"""The system's operation manuals and institutional procedures, shipped as Markdown in
``docs/manuals/`` and loaded as controlled documents (docs/manuals/README.md)."""
