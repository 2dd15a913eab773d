"""Readings for the cold chain tests: a logger from a fixed start."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from pharmaqms.lifecycle.distribution.coldchain import (
    DEFAULT_GAP_FACTOR,
    Reading,
    TemperatureSeries,
    assemble_readings,
)

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def timed(
    pairs: Sequence[tuple[float, float]],
    *,
    interval_min: float | None = None,
    gap_factor: float = DEFAULT_GAP_FACTOR,
) -> TemperatureSeries:
    """Readings at (minutes after START, temperature °C)."""
    return assemble_readings(
        [Reading(at(minutes), temperature) for minutes, temperature in pairs],
        expected_interval=None if interval_min is None else timedelta(minutes=interval_min),
        gap_factor=gap_factor,
    )


def every(minutes: float, temperatures: Sequence[float]) -> TemperatureSeries:
    """A regular logger reading every ``minutes`` from START."""
    return timed([(i * minutes, t) for i, t in enumerate(temperatures)])
