"""Serve a trained chatbot as a Gradio page: text in, streamed text out.

    python app.py                              # http://127.0.0.1:7860
    python app.py --checkpoint checkpoints/faq --port 8000
    python app.py --auth ann:secret            # ask for a user name and password
    python app.py --share                      # also ask Gradio for a public link

The checkpoint is loaded, and one reply generated, before the server accepts
requests. Replies of concurrent users are decoded together in one batch.
Users can flag a bad reply; flagged rows go to a CSV file in --flag-dir.
Gradio's analytics are off unless GRADIO_ANALYTICS_ENABLED is set to True.
"""

from __future__ import annotations

import argparse
import html
import logging
import math
import os
import sys
import time
import unicodedata
import uuid

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# One BLAS thread: a batched decoding step is a small product, and a second
# thread waiting for a core busy with Gradio made it 9x slower in bench/decode.py.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import gradio as gr  # noqa: E402

from model import (  # noqa: E402
    DEFAULT_CHECKPOINT,
    BundleError,
    Chatbot,
    EngineBusy,
    ReplyEngine,
    SamplingOptions,
)

log = logging.getLogger("chatbot")

TITLE = "LSTM 中文聊天机器人"
DESCRIPTION = (
    "一个在对话语料上训练的 LSTM 语言模型，逐字生成回复。"
    "它会复述训练语料里学到的回答，并不理解问题，也不查询任何资料。"
    "A small LSTM language model that replies word by word, in Chinese first."
)
EXAMPLES = ["你好", "你是谁", "什么是ai", "你喜欢什么", "给我讲个笑话"]
DEFAULTS = SamplingOptions()
MAX_INPUT_CHARS = 1000
MAX_ACTIVE_REPLIES = 32  # rows decoded together; more requests wait in the queue
MAX_QUEUE = 64  # waiting requests beyond this are rejected at once as busy
STREAM_INTERVAL_S = 0.05  # shortest time between two streamed updates of one reply
FLAG_DIR = "flagged"
AUTH_VARIABLE = "CHATBOT_AUTH"

# The page's range of each sampling control. The API accepts the same ranges,
# all of them inside SamplingOptions.LIMITS.
CONTROL_RANGES = {
    "temperature": (0.0, 2.0),
    "top_k": (0, 100),
    "top_p": (0.05, 1.0),
    "repetition_penalty": (1.0, 2.0),
    "max_new_tokens": (1, 128),
    "seed": (-1, 2**31 - 1),
}
CONTROL_NOTES = {
    "temperature": "0 = greedy",
    "top_k": "0 = all tokens",
    "repetition_penalty": "1 = off",
    "seed": "-1 = random",
}

EMPTY_MESSAGE = "请输入内容。The message is empty: type something to get a reply."
BUSY_MESSAGE = "服务器忙，请稍后再试。The server is busy: try again in a moment."
FAILED_MESSAGE = (
    "生成回复失败，请再试一次。Generating the reply failed: send the message again."
)


def user_error(message: str) -> gr.Error:
    """Build the error shown to the user; chat() logs it, so Gradio prints no trace."""
    return gr.Error(message, print_exception=False)


def check_message(message, max_input_chars: int) -> str:
    """Return `message` if the model can reply to it, else raise gr.Error saying why."""
    if message is None:
        message = ""
    if not isinstance(message, str):
        raise user_error(f"The message must be text, got {type(message).__name__}.")
    # Whitespace, control and format characters (a NUL byte, a zero-width
    # space) show nothing on the page, so a message of only those is empty.
    visible = [
        char
        for char in message
        if not char.isspace() and unicodedata.category(char) not in ("Cc", "Cf")
    ]
    if not visible:
        raise user_error(EMPTY_MESSAGE)
    if len(message) > max_input_chars:
        raise user_error(
            f"输入太长。The message has {len(message):,} characters; the limit is "
            f"{max_input_chars:,}. Shorten it and send it again."
        )
    return message


def parse_controls(values: dict) -> SamplingOptions:
    """Check the raw values of the sampling controls against CONTROL_RANGES.

    None means the control was left empty and takes its default. Anything
    else out of range raises gr.Error naming the control and its range.
    """
    settings = {}
    for name, (low, high) in CONTROL_RANGES.items():
        value = values.get(name)
        if value is None:
            settings[name] = getattr(DEFAULTS, name)
            continue
        integer = name in SamplingOptions.INTEGERS
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        valid = (
            number
            and math.isfinite(value)
            and low <= value <= high
            and (not integer or value == int(value))
        )
        if not valid:
            kind = "an integer" if integer else "a number"
            note = f" ({CONTROL_NOTES[name]})" if name in CONTROL_NOTES else ""
            # Gradio renders an error message as HTML, so the value is escaped.
            raise user_error(
                f"设置无效。{name} must be {kind} from {low} to {high}{note}, "
                f"got {html.escape(repr(value))}."
            )
        settings[name] = int(value) if integer else float(value)
    return SamplingOptions(**settings).validate()


def build_controls() -> list[gr.components.Component]:
    """Build the sampling controls, in the order of the chat function's arguments."""
    ranges = CONTROL_RANGES
    return [
        gr.Slider(
            *ranges["temperature"],
            value=DEFAULTS.temperature,
            step=0.05,
            label="temperature",
            info=CONTROL_NOTES["temperature"],
        ),
        gr.Slider(
            *ranges["top_k"],
            value=DEFAULTS.top_k,
            step=1,
            label="top_k",
            info=CONTROL_NOTES["top_k"],
        ),
        gr.Slider(*ranges["top_p"], value=DEFAULTS.top_p, step=0.05, label="top_p"),
        gr.Slider(
            *ranges["repetition_penalty"],
            value=DEFAULTS.repetition_penalty,
            step=0.05,
            label="repetition_penalty",
            info=CONTROL_NOTES["repetition_penalty"],
        ),
        gr.Slider(
            *ranges["max_new_tokens"],
            value=DEFAULTS.max_new_tokens,
            step=1,
            label="max_new_tokens",
        ),
        gr.Number(
            value=DEFAULTS.seed,
            precision=0,
            label="seed",
            info=CONTROL_NOTES["seed"],
        ),
    ]


def build_demo(
    engine: ReplyEngine,
    max_input_chars: int = MAX_INPUT_CHARS,
    flag_dir: str | os.PathLike = FLAG_DIR,
    log_requests: bool = False,
    concurrency_limit: int = MAX_ACTIVE_REPLIES,
) -> gr.Interface:
    """Build the page around `engine`; queueing and launching are left to the caller.

    Each request is logged with an id, its input and reply lengths and its
    latency. The user's text is logged only when `log_requests` is true.
    """

    def chat(
        message: str,
        temperature: float = DEFAULTS.temperature,
        top_k: int = DEFAULTS.top_k,
        top_p: float = DEFAULTS.top_p,
        repetition_penalty: float = DEFAULTS.repetition_penalty,
        max_new_tokens: int = DEFAULTS.max_new_tokens,
        seed: int = DEFAULTS.seed,
    ):
        """Stream the reply to `message` as it grows, ending with the whole reply."""
        request_id = uuid.uuid4().hex[:8]
        started = time.perf_counter()
        controls = {
            "temperature": temperature,
            "top_k": top_k,
            "top_p": top_p,
            "repetition_penalty": repetition_penalty,
            "max_new_tokens": max_new_tokens,
            "seed": seed,
        }
        length = len(message) if isinstance(message, str) else 0
        try:
            message = check_message(message, max_input_chars)
            options = parse_controls(controls)
        except gr.Error as error:
            log.warning(
                "request %s rejected: input %d chars: %s",
                request_id,
                length,
                error.message,
            )
            raise

        reply = ""
        outcome = "done"
        try:
            # The first token goes out at once; later ones are sent at most every
            # STREAM_INTERVAL_S, because each update costs Gradio a few ms of CPU.
            sent, last_sent = None, -STREAM_INTERVAL_S
            for reply in engine.stream(message, options):
                now = time.perf_counter()
                if now - last_sent >= STREAM_INTERVAL_S:
                    sent, last_sent = reply, now
                    yield reply
            if reply != sent:
                yield reply
        except EngineBusy:
            outcome = "busy"
            log.warning("request %s rejected: all reply slots are busy", request_id)
            raise user_error(BUSY_MESSAGE) from None
        except GeneratorExit:
            outcome = "cancelled"  # the client left before the reply was finished
            raise
        except Exception:
            outcome = "failed"
            log.exception("request %s failed", request_id)
            raise user_error(FAILED_MESSAGE) from None
        finally:
            latency_ms = (time.perf_counter() - started) * 1000
            text = f", message {message!r}, reply {reply!r}" if log_requests else ""
            log.info(
                "request %s %s: input %d chars, reply %d chars, %.0f ms%s",
                request_id,
                outcome,
                length,
                len(reply),
                latency_ms,
                text,
            )

    demo = gr.Interface(
        fn=chat,
        inputs=gr.Textbox(label="你说", placeholder="输入一句话，比如：你好", lines=2),
        # A plain Textbox shows the reply as text and never renders markup in it.
        outputs=gr.Textbox(label="机器人", lines=3),
        additional_inputs=build_controls(),
        additional_inputs_accordion=gr.Accordion("采样设置 Sampling", open=False),
        examples=[[example] for example in EXAMPLES],
        cache_examples=False,
        title=TITLE,
        description=DESCRIPTION,
        flagging_mode="manual",
        flagging_options=[("标记为不好 Flag a bad reply", "bad reply")],
        flagging_dir=str(flag_dir),
        api_name="chat",
        concurrency_limit=concurrency_limit,
        time_limit=None,
    )

    # Gradio's own preprocessing rejects an out-of-range slider value with a
    # message that names no control, so chat() checks the raw values itself.
    # NOTE: BlockFunction.preprocess is an attribute of Gradio 6 internals.
    for function in demo.fns.values():
        if function.api_name == "chat":
            function.preprocess = False
    return demo


def load_engine(checkpoint) -> ReplyEngine:
    """Load the checkpoint and generate one reply, so the first request starts warm."""
    chatbot = Chatbot.load(checkpoint)
    engine = ReplyEngine(chatbot, max_active=MAX_ACTIVE_REPLIES)
    engine.reply("你好", SamplingOptions(temperature=0.0, max_new_tokens=4))
    log.info(
        "loaded %s: vocabulary %d tokens, %d parameters",
        chatbot.bundle.path,
        len(chatbot.vocabulary),
        chatbot.bundle.parameter_count(),
    )
    return engine


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """Split USER:PASSWORD; raise ValueError when either part is missing."""
    if not value:
        return None
    user, colon, password = value.partition(":")
    if not colon or not user or not password:
        raise ValueError("expected USER:PASSWORD, with both parts non-empty")
    return user, password


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--checkpoint",
        default=str(DEFAULT_CHECKPOINT),
        help="bundle folder written by train.py (default: checkpoints/chatbot)",
    )

    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind; 0.0.0.0 exposes the page to the network "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)),
        help="port (default: $GRADIO_SERVER_PORT or 7860)",
    )

    parser.add_argument(
        "--share",
        action="store_true",
        help="also create a public gradio.live link; without one the page is "
        "served locally only",
    )
    parser.add_argument(
        "--auth",
        default=os.environ.get(AUTH_VARIABLE),
        metavar="USER:PASSWORD",
        help=f"require this user name and password (default: ${AUTH_VARIABLE}, "
        "else no password)",
    )

    parser.add_argument(
        "--max-input-chars",
        type=int,
        default=MAX_INPUT_CHARS,
        help="maximum message length, in characters (default: %(default)s)",
    )
    parser.add_argument(
        "--max-queue",
        type=int,
        default=MAX_QUEUE,
        help="requests that may wait for a reply slot; more are rejected as busy "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--flag-dir",
        default=FLAG_DIR,
        help="folder of the CSV file that flagged replies go to (default: %(default)s)",
    )
    parser.add_argument(
        "--log-requests",
        action="store_true",
        help="also log the text of each message and reply (off by default)",
    )

    args = parser.parse_args(argv)
    try:
        args.auth = parse_auth(args.auth)
    except ValueError as error:
        parser.error(f"invalid --auth or ${AUTH_VARIABLE}: {error}")
    if args.max_input_chars < 1:
        parser.error(f"--max-input-chars must be 1 or more, got {args.max_input_chars}")
    if args.max_queue < 1:
        parser.error(f"--max-queue must be 1 or more, got {args.max_queue}")
    return args


def serve(args: argparse.Namespace, engine: ReplyEngine) -> gr.Blocks:
    """Build the page and launch it without blocking; return the running demo."""
    demo = build_demo(
        engine,
        max_input_chars=args.max_input_chars,
        flag_dir=args.flag_dir,
        log_requests=args.log_requests,
    )
    demo.queue(max_size=args.max_queue)
    demo.launch(
        server_name=args.host,
        server_port=args.port,
        share=args.share,
        auth=[args.auth] if args.auth else None,
        prevent_thread_lock=True,
        quiet=True,
    )
    log.info("serving on %s", demo.local_url)
    if args.share and demo.share_url:
        log.info("public link %s", demo.share_url)
    elif args.share:
        log.warning(
            "could not create a share link (offline, or the share server is "
            "unreachable); serving only on %s",
            demo.local_url,
        )
    if args.auth:
        log.info("password protection is on for user %s", args.auth[0])
    elif args.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning(
            "serving on %s without a password; pass --auth USER:PASSWORD to add one",
            args.host,
        )
    return demo


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        engine = load_engine(args.checkpoint)
    except BundleError as error:
        log.error("failed to load the checkpoint: %s", error)
        return 1
    demo = serve(args, engine)
    demo.block_thread()  # returns after Ctrl+C, with the server closed
    return 0


if __name__ == "__main__":
    sys.exit(main())
