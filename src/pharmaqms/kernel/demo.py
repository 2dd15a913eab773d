"""Demo data loaders, one per module, run in order by ``pharmaqms demo``. Each loader writes
through the module's services (so all of it is audited) and must be idempotent-safe: the demo
only runs on a database that has no demo data yet."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from random import Random

from sqlalchemy.orm import Session

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.identity import Actor


@dataclass
class DemoContext:
    database: Database
    people: dict[str, Actor]  # demo username → actor
    password: str
    rng: Random
    scale: float = 1.0  # 1.0 = the realistic small company; benchmarks ask for more


Loader = Callable[[Session, DemoContext], None]

# (name, loader): appended by modules' demo.py files through register().
LOADERS: list[tuple[str, Loader]] = []


def register(name: str, loader: Loader) -> None:
    if name not in [n for n, _ in LOADERS]:
        LOADERS.append((name, loader))
