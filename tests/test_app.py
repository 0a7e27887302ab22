"""The Gradio app, launched for real on loopback and called through gradio_client."""

import csv
import logging
import re
import threading
import time
from pathlib import Path

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from gradio_client.utils import QueueError, Status

import app
from model import SamplingOptions

GREEDY = SamplingOptions(temperature=0.0)
WAIT_SECONDS = 120  # upper bound for a blocked step, so a broken test fails, not hangs


@pytest.fixture(scope="module")
def engine():
    return app.load_engine(app.DEFAULT_CHECKPOINT)


@pytest.fixture(scope="module")
def flag_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("flagged")


def launch_on_loopback(demo) -> str:
    """Start `demo` on a free 127.0.0.1 port without blocking; return its URL."""
    _, url, _ = demo.launch(
        server_name="127.0.0.1", server_port=None, prevent_thread_lock=True, quiet=True
    )
    return url


@pytest.fixture(scope="module")
def server(engine, flag_dir):
    demo = app.build_demo(engine, flag_dir=flag_dir)
    demo.queue(max_size=app.MAX_QUEUE)
    url = launch_on_loopback(demo)
    yield url
    demo.close()


@pytest.fixture(scope="module")
def client(server):
    return Client(server, verbose=False)


def reply_greedily(client, message: str) -> str:
    return client.predict(message, 0.0, api_name="/chat")


class StepGate:
    """Hold the engine's decoding steps until `expected` requests were submitted.

    The real decoder still computes every step; the gate only delays it, so
    that requests arriving one after another are decoded in the same batch.
    """

    def __init__(self, engine, monkeypatch, expected: int):
        self.expected = expected
        self.submitted = 0
        self.batch_sizes: list[int] = []
        self.open = threading.Event()
        self._lock = threading.Lock()
        step = engine.chatbot.decoder.step
        submit = engine.submit

        def gated_step(token_ids, *args, **kwargs):
            self.open.wait(WAIT_SECONDS)
            self.batch_sizes.append(len(token_ids))
            return step(token_ids, *args, **kwargs)

        def counted_submit(text, options):
            request = submit(text, options)
            with self._lock:
                self.submitted += 1
                if self.submitted >= self.expected:
                    self.open.set()
            return request

        monkeypatch.setattr(engine.chatbot.decoder, "step", gated_step)
        monkeypatch.setattr(engine, "submit", counted_submit)

    def wait_for(self, condition) -> bool:
        deadline = time.monotonic() + WAIT_SECONDS
        while not condition():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True


# ------------------------------------------------------------- streaming


def test_chat_replies_in_chinese(client):
    reply = reply_greedily(client, "你好")
    assert reply.strip()
    assert any("\u4e00" <= char <= "\u9fff" for char in reply)


def test_chat_streams_partial_replies(client):
    job = client.submit("你是谁", 0.0, api_name="/chat")
    result = job.result()
    updates = job.outputs()
    assert len(updates) > 1
    assert updates[-1] == result
    assert updates[0] != result
    assert all(result.startswith(update) for update in updates)


def test_chat_reply_equals_engine_reply(client, engine):
    expected = engine.reply("你喜欢什么", GREEDY)
    assert reply_greedily(client, "你喜欢什么") == expected


# -------------------------------------------------------------- controls


def test_api_parameter_names(client):
    api = client.view_api(print_info=False, return_format="dict")
    parameters = api["named_endpoints"]["/chat"]["parameters"]
    names = [parameter["parameter_name"] for parameter in parameters]
    assert names == [
        "message",
        "temperature",
        "top_k",
        "top_p",
        "repetition_penalty",
        "max_new_tokens",
        "seed",
    ]
    defaults = {p["parameter_name"]: p["parameter_default"] for p in parameters[1:]}
    assert defaults["temperature"] == app.DEFAULTS.temperature
    assert defaults["seed"] == -1


def test_controls_in_collapsed_accordion(client):
    components = {item["id"]: item for item in client.config["components"]}
    accordions = [c for c in components.values() if c["type"] == "accordion"]
    assert len(accordions) == 1
    assert accordions[0]["props"]["open"] is False
    labels = {c["props"].get("label") for c in components.values()}
    assert set(app.CONTROL_RANGES) <= labels


def test_greedy_reply_repeats(client):
    first = client.predict("你会做什么", 0.0, api_name="/chat")
    second = client.predict("你会做什么", 0.0, api_name="/chat")
    assert first
    assert first == second


def test_same_seed_repeats_sampled_reply(client):
    settings = dict(temperature=1.2, top_k=0, top_p=1.0, seed=1234)
    first = client.predict("给我讲个笑话", api_name="/chat", **settings)
    second = client.predict("给我讲个笑话", api_name="/chat", **settings)
    assert first
    assert first == second


@pytest.mark.parametrize(
    "name, value",
    [
        ("temperature", 10),
        ("temperature", -0.5),
        ("top_k", 2.5),
        ("top_k", 500),
        ("top_p", 0),
        ("top_p", 1.5),
        ("repetition_penalty", 0.5),
        ("max_new_tokens", 0),
        ("max_new_tokens", 1000),
        ("seed", -2),
        ("seed", "abc"),
        ("temperature", True),
    ],
)
def test_invalid_control_named_in_error(client, name, value):
    low, high = app.CONTROL_RANGES[name]
    with pytest.raises(AppError) as raised:
        client.predict("你好", api_name="/chat", **{name: value})
    message = str(raised.value)
    assert name in message
    assert f"from {low} to {high}" in message
    assert reply_greedily(client, "你好")


def test_invalid_value_escaped_in_error(client):
    with pytest.raises(AppError) as raised:
        client.predict("你好", api_name="/chat", seed="<img src=x onerror=alert(1)>")
    message = str(raised.value)
    assert "&lt;img src=x" in message
    assert "<img" not in message


def test_empty_control_takes_default(client):
    assert client.predict("你好", 0.0, None, None, None, None, None, api_name="/chat")


# ---------------------------------------------------------------- inputs


EMPTY = "The message is empty"
CASES = [
    ("empty", "", EMPTY),
    ("spaces and newlines", "  \n\t  ", EMPTY),
    ("ideographic space", "\u3000\u3000", EMPTY),
    ("only control characters", "\x00\x07\x1b\u200b\u200d\ufeff", EMPTY),
    ("too long", "你" * 20_000, "20,000 characters; the limit is 1,000"),
    ("punctuation", "？！。，、；：……", None),
    ("ascii punctuation", "?!...,;:'\"", None),
    ("emoji", "😀🎉👍🏽👨‍👩‍👧", None),
    ("nul byte inside text", "你\x00好", None),
    ("control characters inside text", "你好\x07\x1b[31m吗\r\n", None),
    ("zero-width characters", "你\u200b好\u200d吗\ufeff", None),
    ("script tag", "<script>alert('x')</script>", None),
    ("html", "<b>你好</b><img src=x onerror=alert(1)>", None),
    ("arabic", "مرحبا، كيف حالك؟", None),
    ("hebrew", "שלום, מה שלומך?", None),
    ("traditional chinese", "你們好嗎？我想學習電腦", None),
    ("english", "hello, how are you today?", None),
    ("mixed", "我喜欢Python和machine learning", None),
    ("unknown words", "qwzxv flurbish 飍龘靐", None),
    ("exactly the limit", "好" * 1000, None),
]


@pytest.mark.parametrize(
    "text, expected_error",
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_input_gets_reply_or_message(client, text, expected_error):
    if expected_error is None:
        reply = reply_greedily(client, text)
        assert isinstance(reply, str)
        assert reply.strip()
        assert "<script" not in reply
    else:
        with pytest.raises(AppError) as raised:
            reply_greedily(client, text)
        message = str(raised.value)
        assert expected_error in message
        assert "Traceback" not in message
    assert reply_greedily(client, "你好")


def test_output_is_plain_textbox(client):
    components = {item["id"]: item for item in client.config["components"]}
    dependencies = client.config["dependencies"]
    dependency = next(d for d in dependencies if d["api_name"] == "chat")
    output_types = [components[index]["type"] for index in dependency["outputs"]]
    assert output_types == ["textbox"]


# ------------------------------------------------------------ many users


def test_sixteen_requests_decode_together(client, engine, monkeypatch):
    prompts = (app.EXAMPLES * 4)[:16]
    expected = [engine.reply(prompt, GREEDY) for prompt in prompts]
    gate = StepGate(engine, monkeypatch, expected=16)

    jobs = [client.submit(prompt, 0.0, api_name="/chat") for prompt in prompts]
    replies = [job.result(timeout=WAIT_SECONDS) for job in jobs]

    assert gate.open.is_set()
    assert max(gate.batch_sizes) == 16
    assert replies == expected


def test_full_queue_rejects_at_once(engine, monkeypatch, tmp_path):
    demo = app.build_demo(engine, flag_dir=tmp_path, concurrency_limit=1)
    demo.queue(max_size=1)
    url = launch_on_loopback(demo)
    try:
        client = Client(url, verbose=False)
        gate = StepGate(engine, monkeypatch, expected=99)  # stays closed until set
        running = client.submit("你好", 0.0, api_name="/chat")
        assert gate.wait_for(lambda: gate.submitted == 1)
        waiting = client.submit("你是谁", 0.0, api_name="/chat")
        assert gate.wait_for(lambda: waiting.status().code == Status.IN_QUEUE)

        with pytest.raises(QueueError) as raised:
            client.predict("再见", 0.0, api_name="/chat")
        assert "try again" in str(raised.value)

        gate.open.set()
        assert running.result(timeout=WAIT_SECONDS) == engine.reply("你好", GREEDY)
        assert waiting.result(timeout=WAIT_SECONDS) == engine.reply("你是谁", GREEDY)
        assert client.predict("再见", 0.0, api_name="/chat")
    finally:
        demo.close()


def test_engine_busy_message(engine, monkeypatch, tmp_path):
    single_slot = app.ReplyEngine(engine.chatbot, max_active=1)
    demo = app.build_demo(single_slot, flag_dir=tmp_path, concurrency_limit=2)
    demo.queue(max_size=4)
    url = launch_on_loopback(demo)
    try:
        client = Client(url, verbose=False)
        gate = StepGate(single_slot, monkeypatch, expected=99)  # stays closed until set
        running = client.submit("你好", 0.0, api_name="/chat")
        assert gate.wait_for(lambda: gate.submitted == 1)

        with pytest.raises(AppError) as raised:
            client.predict("你是谁", 0.0, api_name="/chat")
        assert "busy" in str(raised.value)
        assert "try again" in str(raised.value)

        gate.open.set()
        assert running.result(timeout=WAIT_SECONDS) == engine.reply("你好", GREEDY)
        assert client.predict("你是谁", 0.0, api_name="/chat")
    finally:
        demo.close()


# --------------------------------------------------------------- logging


REQUEST_LINE = re.compile(
    r"request (?P<id>[0-9a-f]{8}) done: input (?P<input>\d+) chars, "
    r"reply (?P<reply>\d+) chars, \d+ ms$"
)


def test_request_logged_without_text(client, caplog):
    caplog.set_level(logging.INFO, logger="chatbot")
    message = "今天天气怎么样"
    reply = reply_greedily(client, message)

    lines = [r.getMessage() for r in caplog.records if r.name == "chatbot"]
    matches = [REQUEST_LINE.search(line) for line in lines]
    matches = [match for match in matches if match]
    assert len(matches) == 1
    assert int(matches[0]["input"]) == len(message)
    assert int(matches[0]["reply"]) == len(reply)
    assert not any(message in line for line in lines)
    assert not any(reply in line for line in lines)


def test_rejected_request_logged_with_id(client, caplog):
    caplog.set_level(logging.INFO, logger="chatbot")
    with pytest.raises(AppError):
        client.predict("你好", api_name="/chat", top_p=5)

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    pattern = r"request [0-9a-f]{8} rejected: input 2 chars: .*top_p"
    assert re.match(pattern, warnings[0])


# -------------------------------------------------------------- flagging


def test_flag_writes_csv_row(client, flag_dir):
    message = "你喜欢什么"
    reply = reply_greedily(client, message)
    controls = [0.0, 20, 0.9, 1.0, 48, -1]
    client.predict(message, *controls, reply, api_name="/Flag")

    files = list(flag_dir.glob("*.csv"))
    assert len(files) == 1
    with open(files[0], newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[-1]["你说"] == message
    assert rows[-1]["机器人"] == reply
    assert rows[-1]["flag"] == "bad reply"


# ---------------------------------------------------------- file serving


ROOT = Path(app.__file__).resolve().parent
REFUSED_PATHS = [
    "file=app.py",
    "gradio_api/file=app.py",
    f"gradio_api/file={ROOT / 'app.py'}",
    "gradio_api/file=checkpoints/chatbot/model.keras",
    f"gradio_api/file={ROOT / 'checkpoints' / 'chatbot' / 'vocab.json'}",
    "gradio_api/file=/etc/passwd",
    "gradio_api/file=%2Fetc%2Fpasswd",
    "gradio_api/file=../../../../etc/passwd",
    "gradio_api/file=.git/config",
    "gradio_api/file=README.md",
    "static/..%2Fapp.py",
    "assets/..%2F..%2Fapp.py",
]


@pytest.mark.parametrize("path", REFUSED_PATHS)
def test_project_files_not_served(server, path):
    response = httpx.get(server + path)
    assert response.status_code in (403, 404)
    assert "root:" not in response.text
    assert "import gradio" not in response.text


def test_flagged_csv_not_served(server, client, flag_dir):
    client.predict("你好", 0.0, 20, 0.9, 1.0, 48, -1, "你好", api_name="/Flag")
    for file in flag_dir.glob("*.csv"):
        response = httpx.get(f"{server}gradio_api/file={file}")
        assert response.status_code in (403, 404)
