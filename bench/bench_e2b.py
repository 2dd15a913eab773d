"""E2B(R3) benchmark: ICSR messages read and written per second against the ceiling of the XML
work alone.

(a) ``read_batch``: a batch of N copies of the serious sample case (each with its own ids),
    read into typed ICSRs with their plausibility findings, versus (b) the ceiling: the same
    bytes parsed by lxml with the same hardened parser and every element visited once (no
    model built). Target ≥ 10 % (the reader does an XPath query per data element).
(c) ``write_batch`` of the same N ICSRs, versus (d) the ceiling: serialising the tree the
    writer would build, already built (``etree.tostring`` alone). Target ≥ 10 %.

    .venv/bin/python bench/bench_e2b.py [--messages 500] [--repeat 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

from pharmaqms.lifecycle.use.e2b import ICSR, ParsedMessage, read_batch, write_batch
from pharmaqms.lifecycle.use.e2b.read import parse_document

SAMPLE = Path(__file__).resolve().parents[1] / "tests/lifecycle/use/samples"
NOW = datetime(2024, 6, 1, tzinfo=UTC)
READ_TARGET = 0.10
WRITE_TARGET = 0.10


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"machine: {cpu}, {os.cpu_count()} cores, load {load}; {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}; lxml {etree.__version__}"
    )


def cases(count: int) -> list[ICSR]:
    [result] = read_batch(SAMPLE / "serious_hospitalisation.xml", now=NOW)
    assert isinstance(result, ParsedMessage)
    base = result.icsr
    out = []
    for i in range(count):
        case_id = f"{base.report.safety_report_id}-{i:06}"
        out.append(
            dataclasses.replace(
                base,
                message=dataclasses.replace(base.message, message_id=case_id),
                report=dataclasses.replace(
                    base.report, safety_report_id=case_id, worldwide_case_id=case_id
                ),
            )
        )
    return out


def best(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    icsrs = cases(args.messages)
    data = write_batch(icsrs, sender="S", receiver="R", batch_id="B", now=NOW)
    tree = parse_document(data)

    def read() -> None:
        results = read_batch(data, now=NOW, max_bytes=len(data))
        assert len(results) == args.messages

    def parse_only() -> None:
        root = parse_document(data)
        assert sum(1 for _ in root.iter()) > args.messages

    read_s, parse_s = best(args.repeat, read), best(args.repeat, parse_only)
    write_s = best(
        args.repeat, lambda: write_batch(icsrs, sender="S", receiver="R", batch_id="B", now=NOW)
    )
    dump_s = best(args.repeat, lambda: etree.tostring(tree, encoding="UTF-8", pretty_print=True))
    n = args.messages
    print(machine())
    print(f"batch: {n} messages, {len(data) / 2**20:.1f} MiB")
    print(f"(a) read_batch        {n / read_s:10,.0f} messages/s")
    print(f"(b) ceiling: parse    {n / parse_s:10,.0f} messages/s")
    print(f"    ratio (a)/(b)     {parse_s / read_s:10.3f}  (target ≥ {READ_TARGET})")
    print(f"(c) write_batch       {n / write_s:10,.0f} messages/s")
    print(f"(d) ceiling: tostring {n / dump_s:10,.0f} messages/s")
    print(f"    ratio (c)/(d)     {dump_s / write_s:10.3f}  (target ≥ {WRITE_TARGET})")


if __name__ == "__main__":
    main()
