"""`make bench`: every benchmark in turn, then one table of every figure, its target and verdict.

.venv/bin/python -m bench                  # all, in order; var/bench/results.json
.venv/bin/python -m bench ingest search    # some
.venv/bin/python -m bench compare OLD.json NEW.json
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime

from bench.harness import BIN, RESULTS, ROOT, _fmt, cpus, load_average

#: In the order they run: the cheap and fundamental first.
BENCHES = [
    "startup",
    "resolution",
    "tenancy",
    "geodata",
    "ingest",
    "api",
    "search",
    "pages",
    "billing",
    "billing_documents",
    "consoles",
    "portal",
]


def _commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def run(names: list[str]) -> int:
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHES)}")
        return 2
    run_id = uuid.uuid4().hex[:8]
    started = datetime.now(UTC)
    outcomes = {}
    for name in names or BENCHES:
        (RESULTS / f"{name}.json").unlink(missing_ok=True)
        began = time.perf_counter()
        done = subprocess.run(
            [str(BIN / "python"), "-m", f"bench.{name}"],
            cwd=ROOT,
            env=dict(os.environ, BENCH_RUN_ID=run_id),
        )
        outcomes[name] = (done.returncode, time.perf_counter() - began)
    records = []
    for name, (code, seconds) in outcomes.items():
        path = RESULTS / f"{name}.json"
        record = json.loads(path.read_text()) if path.exists() else None
        if record is None or record.get("run_id") != run_id:
            record = {"bench": name, "crashed": True, "figures": []}
        record |= {"exit": code, "seconds": round(seconds, 1)}
        records.append(record)
    summary = {
        "commit": _commit(),
        "started": started.isoformat(timespec="seconds"),
        "cpus": len(cpus()),
        "load_average_at_end": load_average(),
        "benches": records,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "results.json").write_text(json.dumps(summary, indent=1))
    print(table(summary))
    print(f"\n(written to {(RESULTS / 'results.json').relative_to(ROOT)})")
    failed = any(r["exit"] != 0 or r.get("crashed") for r in records)
    return 1 if failed else 0


def _rows(summary: dict) -> list[tuple[str, ...]]:
    rows = []
    for record in summary["benches"]:
        if record.get("crashed") and not record["figures"]:
            failed = "(could not finish: see its output)"
            rows.append((record["bench"], failed, "", "", "", "FAILED"))
        for f in record["figures"]:
            ratio = _fmt(f["ratio"]) + "×" if f.get("ratio") is not None else ""
            verdict = {True: "pass", False: "MISSED", None: "—"}[f["passed"]]
            median = f"{_fmt(f['median'])} {f['unit']}"
            rows.append((record["bench"], f["name"], median, ratio, f["target"], verdict))
    return rows


def table(summary: dict) -> str:
    header = ("bench", "figure", "median", "ratio", "target", "verdict")
    rows = [header, *_rows(summary)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        f"\n== every figure (commit {summary['commit']}, {summary['cpus']} cores, "
        f"load at the end {' '.join(map(str, summary['load_average_at_end']))})"
    ]
    for k, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    missed = sum(1 for r in rows[1:] if r[-1] in ("MISSED", "FAILED"))
    lines.append(f"\n{len(rows) - 1} figures, {missed} missed or failed")
    return "\n".join(lines)


def compare(old_path: str, new_path: str) -> int:
    """Two results.json side by side: each figure's median before and after."""
    old, new = (json.loads(open(p).read()) for p in (old_path, new_path))  # noqa: SIM115
    before = {(r[0], r[1]): r for r in _rows(old)}
    rows = [("bench", "figure", f"before ({old['commit']})", f"after ({new['commit']})", "verdict")]
    for row in _rows(new):
        was = before.get((row[0], row[1]))
        rows.append((row[0], row[1], was[2] if was else "", row[2], row[-1]))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["compare"]:
        if len(argv) != 3:
            print("usage: python -m bench compare OLD.json NEW.json")
            return 2
        return compare(argv[1], argv[2])
    return run(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
