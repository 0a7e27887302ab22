"""Serve a trained chatbot as a Gradio page: text in, streamed text out.

    python app.py                              # http://127.0.0.1:7860
    python app.py --checkpoint checkpoints/faq --port 8000
    python app.py --share                      # also ask Gradio for a public link

The checkpoint is loaded, and one reply generated, before the server accepts
requests. Replies of concurrent users are decoded together in one batch.
Gradio's analytics are off unless GRADIO_ANALYTICS_ENABLED says otherwise.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import gradio as gr  # noqa: E402

from model import DEFAULT_CHECKPOINT, BundleError, Chatbot, EngineBusy, ReplyEngine, SamplingOptions  # noqa: E402

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


def build_demo(engine: ReplyEngine, max_input_chars: int = MAX_INPUT_CHARS) -> gr.Interface:
    """Build the page around `engine`; launching it is left to the caller."""

    def chat(
        message: str,
        temperature: float = DEFAULTS.temperature,
        top_k: int = DEFAULTS.top_k,
        top_p: float = DEFAULTS.top_p,
        repetition_penalty: float = DEFAULTS.repetition_penalty,
        max_new_tokens: int = DEFAULTS.max_new_tokens,
        seed: int = DEFAULTS.seed,
    ):
        """Stream the reply to `message`, growing by one token per update."""
        message = message or ""
        if not message.strip():
            raise gr.Error("请输入内容。The message is empty: type something to get a reply.")
        if len(message) > max_input_chars:
            raise gr.Error(
                f"输入太长。The message has {len(message):,} characters; the limit is "
                f"{max_input_chars:,}. Shorten it and send it again."
            )
        options = SamplingOptions(temperature, top_k, top_p, repetition_penalty, max_new_tokens, seed)
        try:
            options.validate()
        except ValueError as error:
            raise gr.Error(f"Invalid setting: {error}.") from None
        try:
            yield from engine.stream(message, options)
        except EngineBusy:
            raise gr.Error("服务器忙，请稍后再试。The server is busy: try again in a moment.") from None

    controls = [
        gr.Slider(0.0, 2.0, value=DEFAULTS.temperature, step=0.05, label="temperature", info="0 = greedy"),
        gr.Slider(0, 100, value=DEFAULTS.top_k, step=1, label="top_k", info="0 = all tokens"),
        gr.Slider(0.05, 1.0, value=DEFAULTS.top_p, step=0.05, label="top_p"),
        gr.Slider(1.0, 2.0, value=DEFAULTS.repetition_penalty, step=0.05, label="repetition_penalty", info="1 = off"),
        gr.Slider(1, 128, value=DEFAULTS.max_new_tokens, step=1, label="max_new_tokens"),
        gr.Number(value=DEFAULTS.seed, precision=0, label="seed", info="-1 = random"),
    ]
    return gr.Interface(
        fn=chat,
        inputs=gr.Textbox(label="你说", placeholder="输入一句话，比如：你好", lines=2),
        outputs=gr.Textbox(label="机器人", lines=3),
        additional_inputs=controls,
        additional_inputs_accordion=gr.Accordion("采样设置 Sampling", open=False),
        examples=[[example] for example in EXAMPLES],
        cache_examples=False,
        title=TITLE,
        description=DESCRIPTION,
        flagging_mode="never",
        api_name="chat",
        concurrency_limit=MAX_ACTIVE_REPLIES,
        time_limit=None,
    )


def load_engine(checkpoint) -> ReplyEngine:
    """Load the checkpoint and generate one reply, so the first user waits for nothing."""
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


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT), help="bundle folder written by train.py (default: checkpoints/chatbot)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind; 0.0.0.0 exposes the page to the network (default: %(default)s)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)), help="port (default: $GRADIO_SERVER_PORT or 7860)")
    parser.add_argument("--share", action="store_true", help="also create a public gradio.live link")
    parser.add_argument("--max-input-chars", type=int, default=MAX_INPUT_CHARS, help="longest message accepted, in characters (default: %(default)s)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        engine = load_engine(args.checkpoint)
    except BundleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    demo = build_demo(engine, args.max_input_chars)
    demo.queue(max_size=MAX_QUEUE)
    demo.launch(server_name=args.host, server_port=args.port, share=args.share)
    return 0


if __name__ == "__main__":
    sys.exit(main())
