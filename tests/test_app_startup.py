"""Starting the app: broken checkpoints, start-up logs, share link, password.

`python app.py` runs as a subprocess for the checkpoint faults and the
start-up log; the share and password tests launch the app in this process.
"""

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import gradio.networking
import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError, AuthenticationError

import app
from preprocess import Vocabulary

ROOT = Path(app.__file__).resolve().parent
WAIT_SECONDS = 300  # upper bound for a subprocess to start, so a broken test fails


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def copy_checkpoint(folder: Path) -> Path:
    copy = folder / "chatbot"
    shutil.copytree(app.DEFAULT_CHECKPOINT, copy)
    return copy


def truncate_model(path: Path) -> Path:
    model = path / "model.keras"
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    return model


def corrupt_model(path: Path) -> Path:
    model = path / "model.keras"
    model.write_bytes(bytes(range(256)) * (model.stat().st_size // 256))
    return model


def swap_vocabulary(path: Path) -> Path:
    """Write a vocabulary of the same size but another token order."""
    file = path / "vocab.json"
    tokens = list(Vocabulary.load(file).tokens)
    tokens[10], tokens[11] = tokens[11], tokens[10]
    Vocabulary(tokens).save(file)
    return file


def drop_config_fields(path: Path) -> Path:
    file = path / "config.json"
    config = json.loads(file.read_text(encoding="utf-8"))
    del config["vocab_fingerprint"]
    del config["model"]["units"]
    file.write_text(json.dumps(config), encoding="utf-8")
    return file


def break_config_json(path: Path) -> Path:
    file = path / "config.json"
    file.write_text('{"format": 1, "model": {', encoding="utf-8")
    return file


FAULTS = {
    "truncated model": truncate_model,
    "corrupt model": corrupt_model,
    "vocabulary of another model": swap_vocabulary,
    "config missing fields": drop_config_fields,
    "config invalid json": break_config_json,
}


def start_app(*arguments: str) -> subprocess.Popen:
    environment = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False")
    environment.pop(app.AUTH_VARIABLE, None)
    return subprocess.Popen(
        [sys.executable, "app.py", *arguments],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )


class LogReader:
    """Collect a subprocess's stderr lines in a thread, so tests can poll them."""

    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str) -> bool:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return True
            if self.process.poll() is not None:
                self._thread.join(5)
                return any(text in line for line in self.lines)
            time.sleep(0.2)
        return False


@pytest.fixture(scope="module")
def launched(tmp_path_factory):
    """Start the healthy app and the broken ones together, so start-ups overlap."""
    processes = {}
    expected_files = {}
    missing = tmp_path_factory.mktemp("missing") / "chatbot"
    processes["missing checkpoint"] = start_app("--checkpoint", str(missing))
    expected_files["missing checkpoint"] = missing
    for name, damage in FAULTS.items():
        checkpoint = copy_checkpoint(tmp_path_factory.mktemp("broken"))
        expected_files[name] = damage(checkpoint)
        processes[name] = start_app("--checkpoint", str(checkpoint), "--port", "1")

    port = free_port()
    flag_dir = tmp_path_factory.mktemp("flagged")
    healthy = start_app("--port", str(port), "--flag-dir", str(flag_dir))
    reader = LogReader(healthy)
    yield {"faults": (processes, expected_files), "healthy": (reader, port)}

    healthy.terminate()
    healthy.wait(30)
    for process in processes.values():
        if process.poll() is None:
            process.kill()
        process.wait(30)


@pytest.mark.parametrize("fault", ["missing checkpoint", *FAULTS])
def test_broken_checkpoint_exits_with_message(launched, fault):
    processes, expected_files = launched["faults"]
    _, stderr = processes[fault].communicate(timeout=WAIT_SECONDS)
    assert processes[fault].returncode != 0
    assert str(expected_files[fault]) in stderr
    assert "python train.py" in stderr
    assert "Traceback" not in stderr


def test_startup_logs_model_and_address(launched):
    reader, port = launched["healthy"]
    assert reader.wait_for("serving on"), "\n".join(reader.lines)
    log = "\n".join(reader.lines)
    assert str(app.DEFAULT_CHECKPOINT) in log
    assert "vocabulary 1739 tokens" in log
    assert "1063755 parameters" in log
    assert f"serving on http://127.0.0.1:{port}/" in log


def test_subprocess_logs_request_without_text(launched):
    reader, port = launched["healthy"]
    assert reader.wait_for("serving on"), "\n".join(reader.lines)
    client = Client(f"http://127.0.0.1:{port}/", verbose=False)
    message = "今天天气怎么样"
    reply = client.predict(message, 0.0, api_name="/chat")
    assert reply

    assert reader.wait_for(f"input {len(message)} chars, reply {len(reply)} chars")
    log = "\n".join(reader.lines)
    assert message not in log
    assert reply not in log


# --------------------------------------------------- in-process launches


@pytest.fixture(scope="module")
def engine():
    return app.load_engine(app.DEFAULT_CHECKPOINT)


@pytest.fixture
def launch(engine, tmp_path, monkeypatch):
    """Return a function that serves the app with these command-line arguments."""
    monkeypatch.delenv(app.AUTH_VARIABLE, raising=False)
    demos = []

    def serve(*arguments: str):
        flags = ["--port", str(free_port()), "--flag-dir", str(tmp_path), *arguments]
        demo = app.serve(app.parse_args(flags), engine)
        demos.append(demo)
        return demo

    yield serve
    for demo in demos:
        demo.close()


def test_defaults_are_local_and_private(monkeypatch):
    monkeypatch.delenv(app.AUTH_VARIABLE, raising=False)
    args = app.parse_args([])
    assert args.host == "127.0.0.1"
    assert args.share is False
    assert args.auth is None
    assert args.log_requests is False


def test_share_failure_still_serves_locally(launch, monkeypatch, caplog):
    def fail_tunnel(*args, **kwargs):
        raise ConnectionError("share server unreachable")

    # The tunnel fails here, in this process, so no share server is contacted.
    monkeypatch.setattr(gradio.networking, "setup_tunnel", fail_tunnel)
    caplog.set_level(logging.INFO, logger="chatbot")
    demo = launch("--share")

    assert demo.share_url is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("could not create a share link" in line for line in warnings)
    assert any(demo.local_url in line for line in warnings)
    client = Client(demo.local_url, verbose=False)
    assert client.predict("你好", 0.0, api_name="/chat")


def test_auth_rejects_anonymous_api(launch, caplog):
    caplog.set_level(logging.INFO, logger="chatbot")
    demo = launch("--auth", "ann:secret-word")

    with pytest.raises(AuthenticationError, match="credentials were not provided"):
        Client(demo.local_url, verbose=False)
    join = httpx.post(
        demo.local_url + "gradio_api/queue/join",
        json={"data": ["你好"], "fn_index": 0, "session_hash": "anonymous"},
    )
    assert join.status_code == 401
    config = httpx.get(demo.local_url + "config")
    assert config.status_code == 401
    with pytest.raises(ValueError, match="Could not login"):
        Client(demo.local_url, auth=("ann", "wrong"), verbose=False)
    assert not any("secret-word" in r.getMessage() for r in caplog.records)


def test_auth_accepts_credentials(launch):
    demo = launch("--auth", "ann:secret-word")
    client = Client(demo.local_url, auth=("ann", "secret-word"), verbose=False)
    assert client.predict("你好", 0.0, api_name="/chat")


def test_auth_from_environment(monkeypatch):
    monkeypatch.setenv(app.AUTH_VARIABLE, "ann:secret-word")
    assert app.parse_args([]).auth == ("ann", "secret-word")


@pytest.mark.parametrize("value", ["ann", "ann:", ":secret-word"])
def test_malformed_auth_rejected(value, capsys):
    with pytest.raises(SystemExit) as raised:
        app.parse_args(["--auth", value])
    assert raised.value.code == 2
    assert "USER:PASSWORD" in capsys.readouterr().err


def test_log_requests_includes_text(launch, caplog):
    caplog.set_level(logging.INFO, logger="chatbot")
    demo = launch("--log-requests")
    client = Client(demo.local_url, verbose=False)
    reply = client.predict("你是谁", 0.0, api_name="/chat")

    messages = [record.getMessage() for record in caplog.records]
    lines = [line for line in messages if " done: " in line]
    assert len(lines) == 1
    assert "message '你是谁'" in lines[0]
    assert f"reply {reply!r}" in lines[0]


def test_long_input_limit_from_flag(launch):
    demo = launch("--max-input-chars", "5")
    client = Client(demo.local_url, verbose=False)
    assert client.predict("你好", 0.0, api_name="/chat")
    with pytest.raises(AppError, match="the limit is 5"):
        client.predict("你好你好你好", 0.0, api_name="/chat")
