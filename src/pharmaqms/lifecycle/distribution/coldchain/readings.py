"""A data logger's readings as one typed series: when each reading was taken, its temperature in
°C, how long it stands for, and the time nobody knows about.

Conventions (the rest of the package relies on them):

- **Sample-and-hold.** A reading stands for the temperature from its time until the next
  reading; the last reading holds as long as the interval before it. When the readings carry
  their own durations (``hours``, as USP ⟨1079.2⟩ weights), each reading holds for exactly that
  long from its time instead.
- **Gaps are unknown time, never assumed in range.** Without ``hours``, an interval longer than
  ``gap_factor`` × the expected interval (the logger's declared interval, else the median
  interval of the series) is a gap: the reading before it holds only for the expected interval
  and the rest of the interval is *unknown*, reported as a :class:`Gap`. The last reading after
  a gap holds the expected interval too. With ``hours``, the time between the end of a
  reading's hours and the next reading is unknown (beyond :data:`HOURS_TOLERANCE_S` of clock
  rounding); hours that run past the next reading are refused (the same time counted twice).
- **Bad input is refused, never repaired.** Times must carry a UTC offset and strictly increase;
  a temperature must be a finite number within :data:`PLAUSIBLE_MIN_C`…:data:`PLAUSIBLE_MAX_C`.
  Nothing is sorted, interpolated or dropped, with one visible exception: a reading repeated
  with the same time, temperature and hours is counted once and a warning says so (a logger
  re-sending a record); the same time with a different value is refused naming both readings.

Times are kept as integer microseconds since the Unix epoch (UTC), durations as float seconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NoReturn, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.platform.governance.units import registry

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
_Scalar = TypeVar("_Scalar", bound=np.generic)

MICROSECONDS_PER_SECOND = 1_000_000
SECONDS_PER_HOUR = 3600.0
ABSOLUTE_ZERO_C = -273.15
# The same plausibility window as the sensors connector (platform.connectors.sensors): liquid
# nitrogen storage included; beyond it the device is broken, not the cold chain.
PLAUSIBLE_MIN_C = -200.0
PLAUSIBLE_MAX_C = 150.0
# One missed reading of a regular logger (an interval of 2×) is a gap; clock jitter is not.
DEFAULT_GAP_FACTOR = 1.5
# Stated hours and reading times may disagree by this much (hours written as 0.0167 for a
# minute) without it being a gap or a double count.
HOURS_TOLERANCE_S = 1.0
# A billionth of a degree: far below any logger's resolution, far above conversion noise.
CONVERSION_DECIMALS = 9

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICROSECOND = timedelta(microseconds=1)


class ReadingsRefused(InvalidInput):
    """Readings the assessment cannot use; ``extra["index"]`` (when one reading is to blame)
    is the 0-based position of the first offending reading in what the caller passed."""

    code = "readings_refused"
    title = "Readings refused"


def to_microseconds(moment: datetime) -> int:
    """Microseconds since the epoch, exactly (no float rounding); refuses a naive time."""
    if moment.utcoffset() is None:
        raise ReadingsRefused(f"{moment.isoformat()} has no UTC offset")
    return (moment - _EPOCH) // _ONE_MICROSECOND


def from_microseconds(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(value))


def fahrenheit_to_celsius(values: ArrayLike) -> FloatArray:
    """°F → °C through pint (an offset unit: converted as a quantity, never multiplied).

    Rounded to :data:`CONVERSION_DECIMALS` decimals: pint goes through kelvin, and 46.4 °F comes
    out as 8.000000000000057 °C — out of a 2–8 °C range by a rounding error."""
    quantity = registry().Quantity(np.asarray(values, dtype=np.float64), "degF")
    celsius: FloatArray = np.asarray(quantity.to("degC").magnitude, dtype=np.float64)
    return np.round(celsius, CONVERSION_DECIMALS)


@dataclass(frozen=True, slots=True)
class Reading:
    """One reading as a caller loaded it. ``source`` says where it came from ("row 3 (line 4)",
    "reading 8812") and is what a refusal names."""

    time: datetime
    temperature_c: float
    hours: float | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class Gap:
    """Time between two readings that no reading stands for."""

    start: datetime
    end: datetime

    @property
    def duration_s(self) -> float:
        return (self.end - self.start) / timedelta(seconds=1)

    @property
    def duration_min(self) -> float:
        return self.duration_s / 60.0


@dataclass(frozen=True, slots=True, eq=False)
class TemperatureSeries:
    """Readings of one logger over one storage period or journey, checked and with their holds.

    Build it with :func:`series_from_arrays` or :func:`assemble_readings`, which check the
    invariants: ``times_us`` strictly increasing; temperatures finite and plausible; ``holds_s``
    positive; reading *i* stands for ``[times_us[i], times_us[i] + holds_s[i])``. Gaps are kept
    sparse: ``gap_after[k]`` is a reading followed by ``gap_s[k]`` seconds nobody knows about
    (ascending; empty for a logger that missed nothing). The arrays are read-only; ``min_c``,
    ``max_c`` and ``known_s`` are computed once."""

    times_us: IntArray
    temperatures_c: FloatArray
    holds_s: FloatArray
    gap_after: IntArray
    gap_s: FloatArray
    expected_interval_s: float | None
    min_c: float
    max_c: float
    known_s: float  # the time the readings stand for: the duration weights of the MKT
    warnings: tuple[str, ...] = ()

    def __len__(self) -> int:
        return int(self.times_us.size)

    @property
    def start(self) -> datetime:
        return from_microseconds(int(self.times_us[0]))

    @property
    def end(self) -> datetime:
        """The end of the last reading's hold."""
        last = len(self) - 1
        return self.time_at(last) + timedelta(seconds=float(self.holds_s[last]))

    def time_at(self, index: int) -> datetime:
        return from_microseconds(int(self.times_us[index]))

    @property
    def unknown_s(self) -> float:
        return float(self.gap_s.sum())

    @property
    def unknown_after_s(self) -> FloatArray:
        """The unknown seconds after each reading (0 except before a gap), as a full array."""
        unknown = np.zeros(len(self), dtype=np.float64)
        unknown[self.gap_after] = self.gap_s
        return unknown

    def followed_by_gap(self, indices: IntArray) -> BoolArray:
        """Whether each of these readings is followed by unknown time."""
        if self.gap_after.size == 0:
            return np.zeros(indices.shape, dtype=np.bool_)
        at = np.searchsorted(self.gap_after, indices)
        found = at < self.gap_after.size
        found[found] = self.gap_after[at[found]] == indices[found]
        return found

    @property
    def gaps(self) -> tuple[Gap, ...]:
        gaps = []
        for index, seconds in zip(self.gap_after.tolist(), self.gap_s.tolist(), strict=True):
            start = self.time_at(index) + timedelta(seconds=float(self.holds_s[index]))
            gaps.append(Gap(start=start, end=start + timedelta(seconds=seconds)))
        return tuple(gaps)


def _readonly(array: NDArray[_Scalar]) -> NDArray[_Scalar]:
    """A read-only view: the series can't be changed through it, and the caller's array keeps
    its own flags (no copy of a year of readings)."""
    view = array.view()
    view.flags.writeable = False
    return view


def _label(labels: Sequence[str] | None, index: int) -> str:
    if labels is not None and labels[index]:
        return labels[index]
    return f"reading {index + 1}"


def _refuse(message: str, index: int) -> ReadingsRefused:
    return ReadingsRefused(message, extra={"index": index})


def _check_temperatures(
    temperatures: FloatArray, labels: Sequence[str] | None
) -> tuple[float, float]:
    """The lowest and highest temperature, refusing the first one that is not plausible.
    (Two reductions: a NaN makes both comparisons fail, and only then is the culprit looked
    for.)"""
    lowest, highest = float(temperatures.min()), float(temperatures.max())
    if lowest >= PLAUSIBLE_MIN_C and highest <= PLAUSIBLE_MAX_C:
        return lowest, highest
    plausible = (temperatures >= PLAUSIBLE_MIN_C) & (temperatures <= PLAUSIBLE_MAX_C)
    index = int(np.argmin(plausible))
    value = float(temperatures[index])
    where = _label(labels, index)
    if not math.isfinite(value):
        raise _refuse(f"{where}: the temperature is not a finite number", index)
    if value < ABSOLUTE_ZERO_C:
        raise _refuse(f"{where}: {value:g} °C is below absolute zero ({ABSOLUTE_ZERO_C} °C)", index)
    raise _refuse(
        f"{where}: {value:g} °C is outside {PLAUSIBLE_MIN_C:g}…{PLAUSIBLE_MAX_C:g} °C, "
        "plausible for any pharmaceutical storage: a faulty sensor, not a reading",
        index,
    )


def _refuse_disorder(steps: IntArray, labels: Sequence[str] | None) -> NoReturn:
    index = int(np.argmax(steps <= 0)) + 1
    earlier = _label(labels, index - 1)
    if steps[index - 1] == 0:
        raise _refuse(f"{_label(labels, index)} has the same time as {earlier}", index)
    raise _refuse(
        f"{_label(labels, index)} is earlier than {earlier}: readings must be in time order",
        index,
    )


_NO_GAPS: tuple[IntArray, FloatArray] = (np.zeros(0, np.int64), np.zeros(0, np.float64))


def _held_by_stated_hours(
    steps_s: FloatArray, hours: FloatArray, labels: Sequence[str] | None
) -> tuple[FloatArray, tuple[IntArray, FloatArray]]:
    holds = hours * SECONDS_PER_HOUR
    bad = ~(np.isfinite(hours) & (hours > 0))
    if bad.any():
        index = int(np.argmax(bad))
        raise _refuse(f"{_label(labels, index)}: hours must be a positive number", index)
    if steps_s.size == 0:
        return holds, _NO_GAPS
    slack = steps_s - holds[:-1]
    overlap = slack < -HOURS_TOLERANCE_S
    if overlap.any():
        index = int(np.argmax(overlap))
        raise _refuse(
            f"{_label(labels, index)}: its {float(hours[index]):g} h run past the time of "
            f"{_label(labels, index + 1)}: the same time would be counted twice",
            index,
        )
    after = np.flatnonzero(slack > HOURS_TOLERANCE_S)
    return holds, (after, slack[after])


def _held_until_next(
    steps: IntArray, declared_s: float | None, gap_factor: float
) -> tuple[FloatArray, float, tuple[IntArray, FloatArray]]:
    """Holds by sample-and-hold, the expected interval, and the gaps (see the module)."""
    holds = np.empty(steps.size + 1, dtype=np.float64)
    intervals = holds[:-1]
    np.divide(steps, float(MICROSECONDS_PER_SECOND), out=intervals)
    shortest, longest = float(intervals.min()), float(intervals.max())
    if declared_s is not None:
        expected_s = declared_s
    elif shortest == longest:  # a regular logger: its interval, without sorting a year
        expected_s = shortest
    else:
        expected_s = float(np.median(intervals))
    last_interval = float(intervals[-1])
    threshold = gap_factor * expected_s
    holds[-1] = expected_s if last_interval > threshold else last_interval
    if longest <= threshold:
        return holds, expected_s, _NO_GAPS
    after = np.flatnonzero(intervals > threshold)
    unknown = intervals[after] - expected_s
    intervals[after] = expected_s
    return holds, expected_s, (after, unknown)


def series_from_arrays(
    times: ArrayLike,
    temperatures_c: ArrayLike,
    *,
    hours: ArrayLike | None = None,
    expected_interval: timedelta | None = None,
    gap_factor: float = DEFAULT_GAP_FACTOR,
    labels: Sequence[str] | None = None,
    warnings: Sequence[str] = (),
) -> TemperatureSeries:
    """The series of readings given as arrays (the fast path for a service or a benchmark).
    Arrays of the right type are shared, not copied: don't change them afterwards.

    ``times``: integer microseconds since the epoch (UTC), or a ``datetime64`` array read as
    UTC. ``hours``: each reading's duration, or None for sample-and-hold from the times.
    ``expected_interval``: the logger's declared interval; None takes the median interval.
    ``labels`` name the readings in refusals (default "reading 1", "reading 2"…)."""
    raw_times = np.asarray(times)
    if raw_times.dtype.kind == "M":
        raw_times = raw_times.astype("datetime64[us]").view(np.int64)
    times_us = np.ascontiguousarray(raw_times, dtype=np.int64)
    temperatures = np.ascontiguousarray(temperatures_c, dtype=np.float64)
    if times_us.ndim != 1 or temperatures.shape != times_us.shape:
        raise ReadingsRefused("times and temperatures must be two lists of the same length")
    if times_us.size == 0:
        raise ReadingsRefused("no readings")
    if not (math.isfinite(gap_factor) and gap_factor > 1):
        raise ReadingsRefused("the gap factor must be a number above 1", field="gap_factor")
    declared_s = None
    if expected_interval is not None:
        declared_s = expected_interval / timedelta(seconds=1)
        if not declared_s > 0:
            raise ReadingsRefused(
                "the expected interval must be positive", field="expected_interval"
            )
    lowest, highest = _check_temperatures(temperatures, labels)
    steps = np.diff(times_us)
    if steps.size and steps.min() <= 0:
        _refuse_disorder(steps, labels)

    if hours is not None:
        stated = np.ascontiguousarray(hours, dtype=np.float64)
        if stated.shape != times_us.shape:
            raise ReadingsRefused("hours must give one duration per reading")
        holds, (gap_after, gap_s) = _held_by_stated_hours(
            steps / float(MICROSECONDS_PER_SECOND), stated, labels
        )
        expected_s = declared_s
    else:
        if steps.size:
            holds, expected_s, (gap_after, gap_s) = _held_until_next(steps, declared_s, gap_factor)
        elif declared_s is not None:
            holds, expected_s, (gap_after, gap_s) = np.array([declared_s]), declared_s, _NO_GAPS
        else:
            raise _refuse(
                f"{_label(labels, 0)} is the only reading: it has no duration without hours "
                "or a declared logging interval",
                0,
            )
    return TemperatureSeries(
        times_us=_readonly(times_us),
        temperatures_c=_readonly(temperatures),
        holds_s=_readonly(holds),
        gap_after=_readonly(gap_after),
        gap_s=_readonly(gap_s),
        expected_interval_s=expected_s,
        min_c=lowest,
        max_c=highest,
        known_s=float(holds.sum()),
        warnings=tuple(warnings),
    )


def _same_reading(a: Reading, b: Reading) -> bool:
    return a.temperature_c == b.temperature_c and a.hours == b.hours


def assemble_readings(
    readings: Iterable[Reading],
    *,
    expected_interval: timedelta | None = None,
    gap_factor: float = DEFAULT_GAP_FACTOR,
) -> TemperatureSeries:
    """The series of readings given one by one, each refusal naming the reading's ``source``.

    Readings must come in time order (they are never sorted: a logger file out of order is a
    file to look at). A reading repeating the one before it exactly is counted once, with a
    warning on the series."""
    kept: list[Reading] = []
    positions: list[int] = []  # where each kept reading was among those given
    warnings: list[str] = []
    with_hours: bool | None = None
    for position, reading in enumerate(readings):
        where = reading.source or f"reading {position + 1}"
        if reading.time.utcoffset() is None:
            raise _refuse(f"{where}: {reading.time.isoformat()} has no UTC offset", position)
        if with_hours is None:
            with_hours = reading.hours is not None
        elif with_hours != (reading.hours is not None):
            raise _refuse(f"{where}: either every reading gives its hours or none does", position)
        if kept and reading.time <= kept[-1].time:
            before = kept[-1]
            earlier = before.source or "the reading before it"
            if reading.time < before.time:
                raise _refuse(
                    f"{where}: {reading.time.isoformat()} is earlier than {earlier} "
                    f"({before.time.isoformat()}): readings must be in time order",
                    position,
                )
            if not _same_reading(reading, before):
                raise _refuse(
                    f"{where} and {earlier} give the same time {reading.time.isoformat()} "
                    f"with different values ({reading.temperature_c:g} °C and "
                    f"{before.temperature_c:g} °C)",
                    position,
                )
            warnings.append(f"{where} repeats {earlier} exactly: counted once")
            continue
        kept.append(reading)
        positions.append(position)
    if not kept:
        raise ReadingsRefused("no readings")
    try:
        return series_from_arrays(
            [to_microseconds(r.time) for r in kept],
            [r.temperature_c for r in kept],
            hours=[r.hours for r in kept if r.hours is not None] if with_hours else None,
            expected_interval=expected_interval,
            gap_factor=gap_factor,
            labels=[r.source or f"reading {p + 1}" for r, p in zip(kept, positions, strict=True)],
            warnings=warnings,
        )
    except ReadingsRefused as refused:
        if "index" in refused.extra:
            refused.extra["index"] = positions[refused.extra["index"]]
        raise
