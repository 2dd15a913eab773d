"""Seeded synthetic spontaneous reports for bench_signals.py: Zipf-like drug and event
frequencies, 1–5 drugs and 1–4 events per report, each drug with a profile of events it is
reported with more often (so that the relative reporting ratios vary from pair to pair, as
in real databases), and planted drug–event signals."""

from __future__ import annotations

import numpy as np
import polars as pl

DRUG_WEIGHTS = np.array([0.35, 0.25, 0.2, 0.12, 0.08])  # 1..5 drugs per report
EVENT_WEIGHTS = np.array([0.4, 0.3, 0.2, 0.1])  # 1..4 events per report


def _zipf(size: int, exponent: float, offset: float) -> np.ndarray:
    weights = 1.0 / (np.arange(size) + offset) ** exponent
    return weights / weights.sum()


def planted_pairs(drugs: int, events: int, count: int) -> list[tuple[int, int]]:
    """Drugs and events of middling frequency, paired: the signals the methods should find."""
    return [(drugs // 20 + 7 * i, events // 10 + 3 * i) for i in range(count)]


def generate(
    reports: int,
    *,
    drugs: int = 5_000,
    events: int = 2_000,
    planted: int = 50,
    planted_rate: float = 0.3,
    profile_size: int = 12,
    profile_rate: float = 0.35,
    seed: int = 20_261_206,
) -> pl.DataFrame:
    """One row per report–drug–event triple (the cross product of each report's drugs and
    events), with ``age``, ``sex`` and ``year`` per report; drug and event names as text.

    With probability ``profile_rate`` a report's first event is drawn from its first drug's
    profile (``profile_size`` events drawn like any other) instead of from all events; a
    report whose first drug is a planted drug names its planted event instead with
    probability ``planted_rate``."""
    rng = np.random.default_rng(seed)
    n_drugs = rng.choice(np.arange(1, 6), size=reports, p=DRUG_WEIGHTS)
    n_events = rng.choice(np.arange(1, 5), size=reports, p=EVENT_WEIGHTS)
    drug_ids = rng.choice(drugs, size=int(n_drugs.sum()), p=_zipf(drugs, 1.1, 5.0))
    event_ids = rng.choice(events, size=int(n_events.sum()), p=_zipf(events, 1.0, 3.0))
    drug_start = np.r_[0, np.cumsum(n_drugs)[:-1]]
    event_start = np.r_[0, np.cumsum(n_events)[:-1]]

    event_weights = _zipf(events, 1.0, 3.0)
    profiles = rng.choice(events, size=(drugs, profile_size), p=event_weights)
    first_drug = drug_ids[drug_start]
    typical = rng.random(reports) < profile_rate
    choice = rng.integers(0, profile_size, reports)
    event_ids[event_start[typical]] = profiles[first_drug[typical], choice[typical]]

    plant = np.full(drugs, -1)
    for drug, event in planted_pairs(drugs, events, planted):
        plant[drug] = event
    hit = (plant[first_drug] >= 0) & (rng.random(reports) < planted_rate)
    event_ids[event_start[hit]] = plant[first_drug[hit]]

    per_report = n_drugs * n_events
    report = np.repeat(np.arange(reports), per_report)
    slot = np.arange(report.size) - np.repeat(np.r_[0, np.cumsum(per_report)[:-1]], per_report)
    drug = drug_ids[drug_start[report] + slot // n_events[report]]
    event = event_ids[event_start[report] + slot % n_events[report]]

    age = rng.gamma(4.0, 13.0, size=reports).round()
    age[rng.random(reports) < 0.15] = np.nan
    sex = rng.choice(np.array(["F", "M", ""]), size=reports, p=[0.55, 0.38, 0.07])
    year = rng.integers(2004, 2025, size=reports)
    drug_names = pl.Series([f"DRUG{i:05d}" for i in range(drugs)])
    event_names = pl.Series([f"EVENT{i:04d}" for i in range(events)])
    return pl.DataFrame(
        {
            "report_id": report.astype(np.int64),
            "drug": drug_names.gather(drug),
            "event": event_names.gather(event),
            "age": pl.Series(age[report]).fill_nan(None),
            "sex": pl.Series(sex[report]).replace("", None),
            "year": year[report].astype(np.int32),
        }
    )
