"""Fixtures shared by the platform tests."""

from tests.platform.supply_chain import chain, chain_db  # noqa: F401 - fixtures
