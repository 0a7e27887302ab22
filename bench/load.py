"""Load the app through gradio_client: concurrent users, a full queue, a long run.

    python bench/load.py                       # about 8 minutes on 2 cores
    python bench/load.py --clients 8 --requests 5 --replies 100   # a short run

Three checks, each bounded in count and time:

1. Concurrency: --clients clients, each in its own thread, send --requests
   requests one after another. It reports the errors and the p50 and p95
   latency from submit to the whole reply.
2. Full queue: a second app, started with --max-queue 1, gets --burst
   requests at once, more than its reply slots plus its queue. It reports how
   many were served and how many rejected, with the message the client got
   and how long the rejection took.
3. Memory: --replies replies in a row from one client, after a warm-up,
   while psutil samples the resident memory of the app's process.
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
import threading
import time
from pathlib import Path

import psutil

from serve import PROMPT, start_app

PROMPTS = ["你好", "你是谁", "什么是ai", "你喜欢什么", "给我讲个笑话", "什么是足球", PROMPT]
REQUEST_SECONDS = 120  # one request that takes longer counts as an error
WARM_UP_REPLIES = 50
MEMORY_SAMPLES = 20


def chat_arguments(index: int, max_new_tokens: int = 48) -> tuple:
    """Return /chat arguments with the page's default sampling and a fixed seed."""
    message = PROMPTS[index % len(PROMPTS)]
    temperature, top_k, top_p, repetition_penalty = 0.7, 20, 0.9, 1.0
    return (message, temperature, top_k, top_p, repetition_penalty, max_new_tokens, index)


def timed_request(client, arguments: tuple) -> tuple[float, str | None]:
    """Return the seconds from submit to the whole reply, and the error if one came."""
    started = time.perf_counter()
    try:
        reply = client.submit(*arguments, api_name="/chat").result(timeout=REQUEST_SECONDS)
    except Exception as error:  # every failure is counted and shown by the caller
        return time.perf_counter() - started, f"{type(error).__name__}: {error}"
    if not isinstance(reply, str) or not reply.strip():
        return time.perf_counter() - started, f"empty reply {reply!r}"
    return time.perf_counter() - started, None


def percentile(values: list[float], fraction: float) -> float:
    """Return the nearest-rank percentile of `values`."""
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def run_threads(count: int, target) -> None:
    threads = [threading.Thread(target=target, args=(index,), daemon=True) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def check_concurrency(url: str, clients: int, requests: int) -> bool:
    from gradio_client import Client

    print(f"== {clients} clients x {requests} requests")
    connections = [Client(url, verbose=False) for _ in range(clients)]
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def user(index: int) -> None:
        for number in range(requests):
            seconds, error = timed_request(connections[index], chat_arguments(index * requests + number))
            with lock:
                latencies.append(seconds)
                if error:
                    errors.append(error)

    started = time.perf_counter()
    run_threads(clients, user)
    elapsed = time.perf_counter() - started
    print(
        f"requests {len(latencies)}, errors {len(errors)}, wall {elapsed:.1f} s, "
        f"{len(latencies) / elapsed:.1f} replies/s"
    )
    print(
        f"latency p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
        f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms"
    )
    for error, count in collections.Counter(errors).most_common(5):
        print(f"  {count} x {error}")
    return not errors


def check_full_queue(url: str, burst: int) -> None:
    from gradio_client import Client

    print(f"== full queue: {burst} requests at once to an app started with --max-queue 1")
    connections = [Client(url, verbose=False) for _ in range(burst)]
    outcomes: list[tuple[float, str | None]] = [(0.0, None)] * burst
    start = threading.Barrier(burst)

    def user(index: int) -> None:
        start.wait()
        outcomes[index] = timed_request(connections[index], (PROMPT, 0.0, 0, 1.0, 1.0, 128, 0))

    run_threads(burst, user)
    served = [seconds for seconds, error in outcomes if error is None]
    rejected = [(seconds, error) for seconds, error in outcomes if error is not None]
    print(f"served {len(served)}, rejected {len(rejected)}")
    if served:
        print(f"served: median {statistics.median(served) * 1000:.0f} ms, max {max(served) * 1000:.0f} ms")
    if rejected:
        times = [seconds for seconds, _ in rejected]
        print(
            f"rejected: median {statistics.median(times) * 1000:.0f} ms, "
            f"max {max(times) * 1000:.0f} ms after submit"
        )
        for error, count in collections.Counter(error for _, error in rejected).most_common(5):
            print(f"  {count} x {error}")


def check_memory(url: str, pid: int, replies: int, time_limit: float) -> bool:
    from gradio_client import Client

    print(f"== memory: {WARM_UP_REPLIES} warm-up replies, then {replies} in a row")
    client = Client(url, verbose=False)
    process = psutil.Process(pid)
    for index in range(WARM_UP_REPLIES):
        timed_request(client, chat_arguments(index))
    baseline = process.memory_info().rss
    samples = [(0, baseline)]
    errors = 0
    sample_every = max(1, replies // MEMORY_SAMPLES)
    deadline = time.monotonic() + time_limit
    done = 0
    while done < replies and time.monotonic() < deadline:
        _, error = timed_request(client, chat_arguments(WARM_UP_REPLIES + done))
        errors += error is not None
        done += 1
        if done % sample_every == 0 or done == replies:
            samples.append((done, process.memory_info().rss))
    if done < replies:
        print(f"stopped at the time limit of {time_limit:.0f} s after {done} replies")
    megabyte = 1024 * 1024
    print("replies  rss MB")
    for count, rss in samples:
        print(f"{count:>7}  {rss / megabyte:7.1f}")
    growth = (samples[-1][1] - baseline) / megabyte
    peak = (max(rss for _, rss in samples) - baseline) / megabyte
    print(f"errors {errors}; growth after warm-up {growth:+.1f} MB, peak {peak:+.1f} MB")
    print(f"target growth under 50 MB: {'met' if growth < 50 else 'not met'}")
    return errors == 0 and growth < 50


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (default: 32)")
    parser.add_argument("--requests", type=int, default=10, help="requests per client (default: 10)")
    parser.add_argument("--burst", type=int, default=64, help="requests sent at once to the app with a queue of 1 (default: 64)")
    parser.add_argument("--replies", type=int, default=500, help="replies in a row for the memory check (default: 500)")
    parser.add_argument("--memory-seconds", type=float, default=420, help="time limit of the memory check, in seconds (default: 420)")
    parser.add_argument("--log-dir", default="artifacts/bench", help="where the servers' logs go")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    log_dir = Path(args.log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)

    # Both apps load at the same time; the idle one costs memory, not CPU.
    app = start_app(log_dir)
    small_queue = start_app(log_dir, ("--max-queue", "1"), name="app-small-queue")
    passed = True
    try:
        app.wait_until_serving()
        passed &= check_concurrency(app.url, args.clients, args.requests)
        passed &= check_memory(app.url, app.process.pid, args.replies, args.memory_seconds)
        try:
            small_queue.wait_until_serving()
        except RuntimeError as error:
            print(f"the app with --max-queue 1 did not start, so the full-queue check is skipped: {error}")
        else:
            check_full_queue(small_queue.url, args.burst)
    finally:
        app.stop()
        small_queue.stop()
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
