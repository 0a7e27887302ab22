"""Measure streamed reply latency of the app beside a trivial echo app.

    python bench/serve.py                       # 3 to 4 minutes on 2 cores
    python bench/serve.py --rounds 7 --clients 16

Both servers run as their own processes on loopback: `python app.py`, and an
echo gr.Interface behind the same queue and concurrency limit. Its generator
streams the message back in as many chunks as the app's reply has tokens
("echo"), or in 4 chunks ("echo-4"). The echo app does no work of its own, so
its times are what Gradio and gradio_client cost on this machine, and the
app's times relative to echo are what the model adds.

Each client is a gradio_client.Client in its own thread. A request's time to
first text runs from Client.submit to the first streamed output that is not
empty, and its full-reply time runs to the end of the stream. The table also
gives the CPU time per request of the server process and of this process,
which runs every client.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROMPT = "什么是维纳斯"  # the corpus prompt with the longest greedy reply: 48 tokens
MAX_NEW_TOKENS = 48
STARTUP_SECONDS = 240  # importing TensorFlow and loading the model takes up to a minute
ROUND_SECONDS = 120  # a round that takes longer stops the benchmark
# The app's queue settings in app.py, copied so the echo app gets the same.
ECHO_CONCURRENCY_LIMIT = 32
ECHO_MAX_QUEUE = 64


def server_environment() -> dict:
    """Return a copy of os.environ with analytics off and no password for the app."""
    environment = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False")
    environment.pop("CHATBOT_AUTH", None)
    return environment


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A server process on a free loopback port; its output goes to `log_path`."""

    def __init__(self, name: str, command: list[str], log_dir: Path):
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = log_dir / f"{name}.log"
        with open(self.log_path, "w", encoding="utf-8") as log:
            self.process = subprocess.Popen(
                command + ["--port", str(self.port)],
                cwd=ROOT,
                env=server_environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_until_serving(self, timeout: float = STARTUP_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.log_path.read_text(encoding="utf-8", errors="replace")
                raise RuntimeError(
                    f"{self.name} exited with code {self.process.returncode}:\n{output}"
                )
            try:
                with urllib.request.urlopen(self.url, timeout=5):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        raise TimeoutError(f"{self.name} did not serve {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_app(log_dir: Path, extra_arguments: tuple[str, ...] = (), name: str = "app") -> Server:
    command = [sys.executable, "app.py", "--host", "127.0.0.1", *extra_arguments]
    return Server(name, command, log_dir)


def app_arguments(message: str = PROMPT, max_new_tokens: int = MAX_NEW_TOKENS) -> tuple:
    """Return the /chat arguments for a greedy reply, so every run is the same."""
    temperature, top_k, top_p, repetition_penalty, seed = 0.0, 0, 1.0, 1.0, 0
    return (message, temperature, top_k, top_p, repetition_penalty, max_new_tokens, seed)


def serve_echo(port: int) -> None:
    """Serve the echo app in this process until it is stopped."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    import gradio as gr

    def echo(message: str, chunks: float):
        chunks = max(1, int(chunks))
        for index in range(1, chunks + 1):
            yield message[: round(len(message) * index / chunks)]

    demo = gr.Interface(
        fn=echo,
        inputs=[gr.Textbox(), gr.Number(precision=0)],
        outputs=gr.Textbox(),
        api_name="echo",
        flagging_mode="never",
        concurrency_limit=ECHO_CONCURRENCY_LIMIT,
    )
    demo.queue(max_size=ECHO_MAX_QUEUE)
    demo.launch(server_name="127.0.0.1", server_port=port, quiet=True)


def stream_request(client, arguments: tuple, api_name: str) -> dict:
    """Send one request and time its stream; the clock starts at submit."""
    started = time.perf_counter()
    job = client.submit(*arguments, api_name=api_name)
    first_text = None
    updates = 0
    text = ""
    for output in job:
        updates += 1
        text = output
        if first_text is None and output:
            first_text = time.perf_counter() - started
    return {
        "first": first_text,
        "full": time.perf_counter() - started,
        "updates": updates,
        "text": text,
    }


def run_concurrently(clients: list, arguments: tuple, api_name: str) -> list[dict]:
    """Start one request per client at the same moment; return each one's times.

    A request that raises is returned as {"error": exception}. A round that
    is still running after ROUND_SECONDS raises TimeoutError.
    """
    start = threading.Barrier(len(clients))
    results: list[dict] = [{} for _ in clients]

    def worker(index: int) -> None:
        start.wait()
        try:
            results[index] = stream_request(clients[index], arguments, api_name)
        except Exception as error:  # recorded and counted by the caller
            results[index] = {"error": error}

    threads = [
        threading.Thread(target=worker, args=(index,), daemon=True)
        for index in range(len(clients))
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + ROUND_SECONDS
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            raise TimeoutError(f"a round of {api_name} ran past {ROUND_SECONDS} s")
    return results


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default: 16)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per setting (default: 5)")
    parser.add_argument("--log-dir", default="artifacts/bench", help="where the servers' logs go")
    # The benchmark starts itself with these two to serve the echo app.
    parser.add_argument("--echo-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def print_table(rows: dict) -> None:
    cores = os.cpu_count() or 1
    print(
        f"{'server':<7} {'clients':>7} {'first text ms':>14} {'full reply ms':>14} "
        f"{'round ms':>9} {'updates':>8} {'errors':>6} {'server cpu ms':>14} "
        f"{'client cpu ms':>14} {'cpu floor ms':>13}"
    )
    for (name, clients), row in rows.items():
        # The shortest round the CPU time allows if every core did nothing else.
        floor = clients * (row["server_cpu"] + row["client_cpu"]) / cores
        print(
            f"{name:<7} {clients:>7} {row['first'] * 1000:>14.0f} "
            f"{row['full'] * 1000:>14.0f} {row['round'] * 1000:>9.0f} "
            f"{row['updates']:>8.0f} {row['errors']:>6} {row['server_cpu'] * 1000:>14.0f} "
            f"{row['client_cpu'] * 1000:>14.0f} {floor * 1000:>13.0f}"
        )


def summarise(results_by_round: list[list[dict]]) -> dict:
    """Return the medians over all requests of all rounds, and the error count."""
    requests = [result for round_ in results_by_round for result in round_]
    good = [result for result in requests if "error" not in result]
    # A round's time is the full-reply time of its last request.
    round_times = []
    for round_ in results_by_round:
        times = [result["full"] for result in round_ if "error" not in result]
        if times:
            round_times.append(max(times))
    return {
        "first": median([result["first"] for result in good if result["first"] is not None]),
        "full": median([result["full"] for result in good]),
        "round": median(round_times),
        "updates": median([result["updates"] for result in good]),
        "errors": len(requests) - len(good),
        "first_error": next((result["error"] for result in requests if "error" in result), None),
    }


def measure(args: argparse.Namespace) -> dict:
    """Start both servers, run the rounds and return one summary row per setting."""
    import psutil
    from gradio_client import Client

    log_dir = Path(args.log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    app = start_app(log_dir)
    echo = Server("echo", [sys.executable, __file__, "--echo-server"], log_dir)
    servers = [app, echo]
    try:
        for server in servers:
            server.wait_until_serving()
        app_clients = [Client(app.url, verbose=False) for _ in range(args.clients)]
        echo_clients = [Client(echo.url, verbose=False) for _ in range(args.clients)]

        # Warm up both servers, and learn how many updates the app streams, so
        # the echo app streams as many. A second echo setting streams the same
        # text in 4 chunks, which shows the cost of each streamed update.
        reply = stream_request(app_clients[0], app_arguments(), "/chat")
        chunks = reply["updates"]
        stream_request(echo_clients[0], (reply["text"], chunks), "/echo")
        print(f"app reply: {chunks} updates, {len(reply['text'])} characters: {reply['text']}")

        # Rounds interleave the settings, so a slow spell of the shared CPU
        # falls on all of them alike.
        settings = []
        for count in (1, args.clients):
            settings += [
                ("app", count, app_clients[:count], app_arguments(), "/chat", app),
                ("echo", count, echo_clients[:count], (reply["text"], chunks), "/echo", echo),
                ("echo-4", count, echo_clients[:count], (reply["text"], 4), "/echo", echo),
            ]
        results = {(name, count): [] for name, count, *_ in settings}
        cpu_seconds = {(name, count): [0.0, 0.0] for name, count, *_ in settings}
        client_process = psutil.Process()
        for round_number in range(1, args.rounds + 1):
            for name, count, clients, arguments, api_name, server in settings:
                server_process = psutil.Process(server.process.pid)
                server_before = sum(server_process.cpu_times()[:2])
                client_before = sum(client_process.cpu_times()[:2])
                results[(name, count)].append(run_concurrently(clients, arguments, api_name))
                cpu_seconds[(name, count)][0] += sum(server_process.cpu_times()[:2]) - server_before
                cpu_seconds[(name, count)][1] += sum(client_process.cpu_times()[:2]) - client_before
            print(f"round {round_number} of {args.rounds} done", flush=True)
    finally:
        for server in servers:
            server.stop()

    rows = {key: summarise(value) for key, value in results.items()}
    for key, (server_cpu, client_cpu) in cpu_seconds.items():
        requests = args.rounds * key[1]
        rows[key]["server_cpu"] = server_cpu / requests
        rows[key]["client_cpu"] = client_cpu / requests
    return rows


def report(rows: dict, clients: int) -> None:
    """Print the table, the ratios and whether each target is met."""
    print()
    print_table(rows)
    for (name, count), row in rows.items():
        if row["errors"]:
            print(f"{name} with {count} clients: {row['errors']} errors, first: {row['first_error']!r}")

    def ratio(name: str, column: str) -> float:
        return rows[(name, clients)][column] / rows[(name, 1)][column]

    print()
    for name in ("app", "echo", "echo-4"):
        print(
            f"{name}: {clients} clients / 1 client: full reply {ratio(name, 'full'):.2f}x, "
            f"last reply of a round {ratio(name, 'round'):.2f}x"
        )
    print(f"app relative to echo, in that ratio: {ratio('app', 'full') / ratio('echo', 'full'):.2f}")
    for count in (1, clients):
        app_row, echo_row = rows[("app", count)], rows[("echo", count)]
        print(
            f"{count} clients, app / echo: first text {app_row['first'] / echo_row['first']:.2f}x, "
            f"full reply {app_row['full'] / echo_row['full']:.2f}x"
        )
    for count in (1, clients):
        row = rows[("app", count)]
        print(f"app, {count} clients: first text at {row['first'] / row['full']:.0%} of the full-reply time")

    app_ratio = ratio("app", "full")
    streams = all(rows[("app", count)]["first"] < rows[("app", count)]["full"] for count in (1, clients))
    print()
    print(
        f"target {clients} clients <= 3x one client: {'met' if app_ratio <= 3 else 'not met'} "
        f"(app {app_ratio:.2f}x, echo {ratio('echo', 'full'):.2f}x)"
    )
    print(f"target first text before the full reply: {'met' if streams else 'not met'}")


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.echo_server:
        serve_echo(args.port)
        return 0
    rows = measure(args)
    report(rows, args.clients)
    return 1 if any(row["errors"] for row in rows.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
