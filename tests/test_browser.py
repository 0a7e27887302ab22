"""The page in a real browser: `python app.py` on loopback, driven by chromium.

Playwright drives Debian's chromium at /usr/bin/chromium (`bash .ci/run`
installs it); Playwright's own browser download is never used. The tests are
skipped when that binary is missing. The screenshot of the first reply goes to
$BROWSER_SCREENSHOT, by default artifacts/browser-reply.png.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path(os.environ.get("BROWSER_SCREENSHOT", ROOT / "artifacts" / "browser-reply.png"))
STARTUP_SECONDS = 240  # importing TensorFlow and loading the model takes 20 to 60 s on 2 busy cores
REPLY_MS = 60_000
CHROMIUM_FLAGS = [
    "--no-sandbox",  # chromium will not start as root with its sandbox on
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-extensions",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(),
    reason=f"{CHROMIUM} is missing: install Debian's chromium (bash .ci/run does)",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = log_path.read_text(encoding="utf-8", errors="replace")
            pytest.fail(f"app.py exited with code {process.returncode}:\n{log}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    pytest.fail(f"app.py did not serve {url} within {STARTUP_SECONDS} s")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log_path = tmp_path_factory.mktemp("app") / "app.log"
    environment = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False")
    environment.pop("CHATBOT_AUTH", None)  # the test drives the page without a login
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_serving(url, process, log_path)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()


@pytest.fixture
def page(browser, server):
    page = browser.new_page()
    page.goto(server)
    page.get_by_label("你说").wait_for()
    yield page
    page.close()


def submit(page, message: str) -> None:
    page.get_by_label("你说").fill(message)
    page.get_by_role("button", name="Submit", exact=True).click()


def is_chinese(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


def test_page_shows_chinese_reply(page):
    submit(page, "你好")

    # The output block carries the class "generating" while the stream is
    # open, so a non-empty value without it is the whole reply.
    output = page.get_by_label("机器人")
    page.wait_for_function(
        """(output) => output.value.trim() !== ""
            && document.querySelectorAll(".generating").length === 0""",
        arg=output.element_handle(),
        timeout=REPLY_MS,
    )
    reply = output.input_value()
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    assert reply.strip(), "the reply box is empty"
    assert any(is_chinese(char) for char in reply), f"no Chinese in the reply {reply!r}"
    assert "<" not in reply, f"a special token leaked into the reply {reply!r}"
    toasts = page.locator('[data-testid="toast-body"]')
    assert toasts.count() == 0, f"the page shows {toasts.all_inner_texts()}"
    assert "Error" not in reply


def test_page_shows_empty_message_error(page):
    submit(page, "")

    toast = page.locator('[data-testid="toast-body"].error')
    toast.first.wait_for(timeout=REPLY_MS)
    text = " ".join(toast.all_inner_texts())
    assert "The message is empty" in text
    assert page.get_by_label("机器人").input_value() == ""
