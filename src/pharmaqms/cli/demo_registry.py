"""Kept for older imports: the demo loader registry lives in ``pharmaqms.kernel.demo`` so that
modules can register their loaders without importing the command line."""

from __future__ import annotations

from pharmaqms.kernel.demo import LOADERS, DemoContext, Loader, register

__all__ = ["LOADERS", "DemoContext", "Loader", "register"]
