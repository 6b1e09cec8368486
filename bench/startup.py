"""Start-up of `flask` commands, whole process: `flask --help` and a cheap real command
(`flask tenants list --json` on a migrated database), each run alternately with a bare Python
importing Flask (the floor any `flask` command pays), wall and CPU time.

Bytecode is cached as on any installed copy (the first, warm-up run writes it, in a temporary
folder rather than in the tree), whatever PYTHONDONTWRITEBYTECODE says; one figure, for the
record, shows `flask --help` compiling every module of the project on each start.
"""

from __future__ import annotations

import resource
import subprocess
import tempfile
import time

from bench.harness import BIN, ROOT, Bench, BenchError

RUNS = 7
FLOOR = [str(BIN / "python"), "-c", "import flask"]
FLOOR_NAME = "python -c 'import flask', same interpreter"


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run `command` to its end: (wall seconds, CPU seconds of the process, user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise BenchError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(bench: Bench, name: str, command: list[str], env: dict[str, str]) -> None:
    """Wall and CPU figures of `command`, interleaved with the floor."""
    cpu: dict[str, list[float]] = {"command": [], "floor": []}

    def run(which: str, argv: list[str]):
        def once() -> float:
            wall, seconds = timed(argv, env)
            cpu[which].append(seconds)
            return wall

        return once

    walls, floors = bench.interleave(run("command", command), run("floor", FLOOR), runs=RUNS)
    bench.figure(
        f"{name}, whole process",
        walls,
        "s",
        at_most=1.0,
        baseline=floors,
        baseline_name=FLOOR_NAME,
        note="wall time; on a loaded machine it stretches with the load average shown",
    )
    bench.figure(
        f"{name}, CPU time (user + system)",
        cpu["command"][-RUNS:],
        "s",
        baseline=cpu["floor"][-RUNS:],
        baseline_name=FLOOR_NAME,
        note="for the record: the work itself, less sensitive than wall time to other load",
    )


def main() -> None:
    with Bench("startup") as bench, tempfile.TemporaryDirectory(prefix="bench-pyc-") as pyc:
        url = bench.database()
        bench.flask(bench.env(url), "db", "upgrade")
        env = bench.env(url, PYTHONPYCACHEPREFIX=pyc)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        flask = str(BIN / "flask")
        measure(bench, "flask --help", [flask, "--help"], env)
        measure(bench, "flask tenants list --json", [flask, "tenants", "list", "--json"], env)

        uncached = dict(env, PYTHONDONTWRITEBYTECODE="1")
        uncached.pop("PYTHONPYCACHEPREFIX")
        walls = bench.repeat(lambda: timed([flask, "--help"], uncached)[0], runs=3)
        bench.figure(
            "flask --help, no bytecode cache (every module compiled)",
            walls,
            "s",
            note="for the record: PYTHONDONTWRITEBYTECODE=1, as in a read-only checkout",
        )


if __name__ == "__main__":
    main()
