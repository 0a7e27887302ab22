"""Load the app through gradio_client: concurrent users, a full queue, a long run.

    python bench/load.py                       # about 8 minutes on 2 cores
    python bench/load.py --clients 8 --requests 5 --replies 100   # a short run
    python bench/load.py --requests 0 --replies 0                 # the full queue only

Three checks, each bounded in count and time:

1. Concurrency: --clients clients, each in its own thread, send --requests
   requests one after another. It reports the errors and the p50 and p95
   latency from submit to the whole reply.
2. Full queue: a second app, started with --max-queue 1, gets --fill long
   requests at once, enough for its reply slots and its queue, and then
   --probes more. It reports how many of each were served and rejected, the
   message the client got, and how long a rejection took after submit. Then
   it posts the same burst straight to the queue, without gradio_client, to
   time the server's response. Gradio 6.31's queue size counts the events
   that its loop has not started yet, so a burst can overflow a queue of 1
   while reply slots are still free.
3. Memory: --replies replies in a row from one client, after a warm-up,
   while psutil samples the resident memory of the app's process.
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil

from serve import PROMPT, start_app

PROMPTS = ["你好", "你是谁", "什么是ai", "你喜欢什么", "给我讲个笑话", "什么是足球", PROMPT]
REQUEST_SECONDS = 120  # one request that takes longer counts as an error
WARM_UP_REPLIES = 50
# NOTE: on 2 busy cores gradio_client takes seconds to send a burst of 33, so
# some filling requests may still be on their way when the probes start.
FILL_SECONDS = 2.0
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


def check_full_queue(url: str, fill: int, probes: int) -> None:
    from gradio_client import Client

    print(
        f"== full queue: {fill} long requests fill the reply slots and the queue of 1, "
        f"then {probes} more are sent"
    )
    connections = [Client(url, verbose=False) for _ in range(fill + probes)]
    timed_request(connections[0], (PROMPT, 0.0, 0, 1.0, 1.0, 8, 0))  # warm-up
    outcomes: list[tuple[float, str | None]] = [(0.0, None)] * (fill + probes)
    start = threading.Barrier(fill)

    def filler(index: int) -> None:
        start.wait()
        outcomes[index] = timed_request(connections[index], (PROMPT, 0.0, 0, 1.0, 1.0, 128, index))

    def prober(index: int) -> None:
        outcomes[fill + index] = timed_request(connections[fill + index], chat_arguments(index))

    fillers = threading.Thread(target=run_threads, args=(fill, filler), daemon=True)
    fillers.start()
    time.sleep(FILL_SECONDS)
    run_threads(probes, prober)
    fillers.join()

    for label, group in (("fill", outcomes[:fill]), ("probe", outcomes[fill:])):
        served = [seconds for seconds, error in group if error is None]
        rejected = [seconds for seconds, error in group if error is not None]
        line = f"{label}: served {len(served)}, rejected {len(rejected)}"
        if served:
            line += f"; served in {min(served):.2f} to {max(served):.2f} s"
        if rejected:
            line += f"; rejected in {min(rejected):.2f} to {max(rejected):.2f} s after submit"
        print(line)
    errors = collections.Counter(error for _, error in outcomes if error is not None)
    for error, count in errors.most_common(5):
        print(f"  {count} x {error}")

    # The same burst again, posted straight to the queue from threads, after
    # the requests above are done.
    fn_index = chat_fn_index(url)
    joins: list[tuple[float, int, str]] = [(0.0, 0, "")] * (fill + probes)
    start = threading.Barrier(fill + probes)

    def joiner(index: int) -> None:
        start.wait()
        joins[index] = join_queue(url, fn_index, index)

    run_threads(fill + probes, joiner)
    print(f"direct POST /gradio_api/queue/join, {fill + probes} at once:")
    for status in sorted({status for _, status, _ in joins}):
        times = [seconds for seconds, code, _ in joins if code == status]
        body = next(text for _, code, text in joins if code == status)
        print(
            f"  HTTP {status}: {len(times)} requests, answered in {min(times) * 1000:.0f} to "
            f"{max(times) * 1000:.0f} ms, for example {body[:100]}"
        )


def chat_fn_index(url: str) -> int:
    """Return the id of the /chat endpoint in the app's config."""
    with urllib.request.urlopen(f"{url}config", timeout=30) as response:
        config = json.load(response)
    for dependency in config["dependencies"]:
        if dependency.get("api_name") == "chat":
            return dependency["id"]
    raise LookupError(f"no /chat endpoint in the config of {url}")


def join_queue(url: str, fn_index: int, index: int) -> tuple[float, int, str]:
    """POST one /chat request to the queue directly; return seconds, status and body.

    This skips gradio_client, whose own CPU cost under many threads delays
    its requests by seconds on 2 cores, so the time is the server's.
    """
    body = {
        "data": list(chat_arguments(index)),
        "fn_index": fn_index,
        "session_hash": f"bench{index:06d}",
        "event_data": None,
        "trigger_id": None,
    }
    request = urllib.request.Request(
        f"{url}gradio_api/queue/join",
        data=json.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json"},
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_SECONDS) as response:
            status, text = response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode("utf-8")
    return time.perf_counter() - started, status, text


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
    parser.add_argument("--requests", type=int, default=10, help="requests per client; 0 skips the check (default: 10)")
    parser.add_argument("--fill", type=int, default=33, help="long requests that fill the app with a queue of 1: its 32 reply slots and its queue (default: 33)")
    parser.add_argument("--probes", type=int, default=8, help="requests sent once the queue is full (default: 8)")
    parser.add_argument("--replies", type=int, default=500, help="replies in a row for the memory check; 0 skips it (default: 500)")
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
        if args.requests:
            passed &= check_concurrency(app.url, args.clients, args.requests)
        if args.replies:
            passed &= check_memory(app.url, app.process.pid, args.replies, args.memory_seconds)
        try:
            small_queue.wait_until_serving()
        except RuntimeError as error:
            print(f"the app with --max-queue 1 did not start, so the full-queue check is skipped: {error}")
        else:
            check_full_queue(small_queue.url, args.fill, args.probes)
    finally:
        app.stop()
        small_queue.stop()
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
