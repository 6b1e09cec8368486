"""Resolution overhead where it costs: a territory route that opens a territory transaction, with
and without the host cache, against the same read and body served without resolution.

The server (gunicorn, one worker of 4 threads) runs on one core and the load (4 keep-alive client
threads) on the other where there are two; each figure is requests per second, five interleaved
runs of 3 s after a warm-up, and their ratio to the baseline run by run.

    .venv/bin/python -m bench.resolution
"""

from __future__ import annotations

import http.client
import os
import threading
import time

from bench.harness import Bench, split_cores

SLUG = "resolution"
HOST = "resolution.vivrau.localhost"
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
CLIENTS = 4


def hammer(port: int, path: str, seconds: float, host: str = HOST) -> float:
    """Requests per second over keep-alive connections from CLIENTS threads; any answer but 200
    stops the benchmark."""
    counts = [0] * CLIENTS
    failures: list[str] = []
    stop = time.perf_counter() + seconds

    def loop(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            while time.perf_counter() < stop and not failures:
                conn.request("GET", path, headers={"Host": host})
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    failures.append(f"{path}: HTTP {response.status}")
                counts[k] += 1
        finally:
            conn.close()

    threads = [threading.Thread(target=loop, args=(k,)) for k in range(CLIENTS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise RuntimeError(failures[0])
    return sum(counts) / (time.perf_counter() - started)


def main() -> None:
    with Bench("resolution") as bench:
        url = bench.database()
        env = bench.env(url)
        bench.flask(env, "db", "upgrade")
        bench.flask(env, "tenants", "create", "--slug", SLUG, "--name", "Résolution",
                    "--kind", "commune", "--code", "15187")  # fmt: skip
        server_cpus, load_cpus = split_cores()
        if load_cpus:
            os.sched_setaffinity(0, load_cpus)
        for cache in ("5", "0"):
            _, port = bench.serve(
                "bench.app:app", env | {"TENANT_CACHE_SECONDS": cache}, cpus=server_cpus
            )
            values, base = bench.interleave(
                lambda port=port: hammer(port, "/_bench/territory", SECONDS),
                lambda port=port: hammer(port, f"/_bench/plain/{SLUG}", SECONDS),
                runs=RUNS,
            )
            cached = cache != "0"
            conditions = (
                f"{CLIENTS} clients, runs of {SECONDS:g} s, server on cores "
                f"{server_cpus or 'any'}, load on {load_cpus or 'any'}"
            )
            bench.figure(
                f"territory transaction, host cache {cache} s"
                if cached
                else "territory transaction, no host cache",
                values,
                "req/s",
                baseline=base,
                baseline_name="the same read and body without resolution",
                # The target is the cached path's, as served; without the cache each request pays
                # a registry query on a connection of its own: the figure says what the cache saves.
                ratio_at_least=0.85 if cached else None,
                note=conditions if cached else conditions + "; for the record",
            )


if __name__ == "__main__":
    main()
