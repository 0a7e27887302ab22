"""Measure the time per generated token of four ways to decode, in one run.

    python bench/decode.py                          # 20 s to 70 s on 2 shared cores
    python bench/decode.py --checkpoint checkpoints/faq --rounds 9

The four ways, all over the same trained weights:

    tutorial   keras model.predict on the whole sequence for every new token,
               greedy, as text generation tutorials often do
    ours       Chatbot.generate_ids, one request: the NumPy step decoder and
               sampling with the default SamplingOptions (temperature 0.7,
               top_k 20, top_p 0.9), seeded
    floor      the LSTM arithmetic alone as bare NumPy matrix-vector products,
               per layer x @ W + h @ U + b and the gates, then h @ W_logits + b
    batch x16  the ReplyEngine's batch at 16 active requests, same sampling,
               the time of one batched step divided by 16

Every figure is the median over single tokens. The machine is shared, so
ours, the floor and the batch are measured in alternating rounds, and the
ratios come from the same run. The last table shows that the time per reply token does
not grow with the prompt length or with the position in the reply.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

# One BLAS thread unless the caller sets another count, set before NumPy
# loads OpenBLAS. OpenBLAS splits a 16-row product over both cores, and on
# a busy 2-core machine waiting for the second thread made a batched step
# 8 times slower (17.5 ms against 2.0 ms, measured). One-row products use
# one thread anyway.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import preprocess  # noqa: E402
from model import DEFAULT_CHECKPOINT, NEVER_GENERATED, Chatbot, SamplingOptions, _ReplyBatch, _Request  # noqa: E402

SAMPLING = SamplingOptions(seed=0, max_new_tokens=48)  # the defaults, seeded
GREEDY = SamplingOptions(temperature=0.0, max_new_tokens=48)
BATCH_ROWS = 16


def milliseconds(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000


def time_tutorial(chatbot: Chatbot, prompt_ids: list[int], tokens: int) -> list[float]:
    """Greedy decoding that calls model.predict on the whole sequence per token."""
    model = chatbot.bundle.model
    ids = list(prompt_ids)
    model.predict(np.array([ids]), verbose=0)  # the first call builds the predict function
    times = []
    for _ in range(tokens):
        start = time.perf_counter()
        logits = model.predict(np.array([ids]), verbose=0)[0, -1]  # (vocab,)
        logits[list(NEVER_GENERATED)] = -np.inf
        ids.append(int(np.argmax(logits)))
        times.append(time.perf_counter() - start)
    return times


def time_reply_tokens(chatbot: Chatbot, prompt_ids: list[int], options: SamplingOptions) -> list[float]:
    """Return the time of each reply token after the first; the first includes the prompt."""
    tokens = chatbot.generate_ids(prompt_ids, options)
    next(tokens)
    times = []
    while True:
        start = time.perf_counter()
        try:
            next(tokens)
        except StopIteration:
            return times
        times.append(time.perf_counter() - start)


class NumpyFloor:
    """The per-token arithmetic of the LSTM and nothing else, in plain NumPy."""

    def __init__(self, model, layers: int):
        self.embeddings = model.get_layer("embedding").get_weights()[0]
        self.layers = [model.get_layer(f"lstm_{index}").get_weights() for index in range(layers)]
        self.logit_kernel, self.logit_bias = model.get_layer("logits").get_weights()
        self.units = self.layers[0][1].shape[0]

    def time_tokens(self, token_ids: list[int]) -> list[float]:
        units = self.units
        state = [(np.zeros(units, np.float32), np.zeros(units, np.float32)) for _ in self.layers]
        times = []
        for token in token_ids:
            start = time.perf_counter()
            x = self.embeddings[token]
            for index, (kernel, recurrent_kernel, bias) in enumerate(self.layers):
                h, c = state[index]
                z = x @ kernel + h @ recurrent_kernel + bias  # (4 * units,), gates i, f, g, o
                i = 1 / (1 + np.exp(-z[:units]))
                f = 1 / (1 + np.exp(-z[units : 2 * units]))
                g = np.tanh(z[2 * units : 3 * units])
                o = 1 / (1 + np.exp(-z[3 * units :]))
                c = f * c + i * g
                h = o * np.tanh(c)
                state[index] = (h, c)
                x = h
            logits = x @ self.logit_kernel + self.logit_bias  # (vocab,)
            times.append(time.perf_counter() - start)
        assert logits.shape == self.logit_bias.shape
        return times


def time_batch_steps(chatbot: Chatbot, prompts: list[list[int]], steps: int, first_request: int) -> list[float]:
    """Time batched steps with BATCH_ROWS active requests, refilling finished rows.

    Request n replies to prompts[n % len(prompts)] with seed n, counting from
    `first_request`. Only the steps are timed, not the prompts fed on refill.
    """
    batch = _ReplyBatch(chatbot.decoder)
    times = []
    next_request = first_request
    while len(times) < steps:
        missing = BATCH_ROWS - len(batch.requests)
        if missing:
            new = []
            for _ in range(missing):
                options = SamplingOptions(seed=next_request, max_new_tokens=SAMPLING.max_new_tokens)
                new.append(_Request(prompts[next_request % len(prompts)], options.validate()))
                next_request += 1
            batch.add(new)
            continue
        start = time.perf_counter()
        batch.step()
        times.append(time.perf_counter() - start)
    return times


def time_by_position(chatbot: Chatbot, prompt_ids: list[int], repeats: int) -> dict[int, list[float]]:
    """Return the times of each reply position (1 is the second token) over repeated replies."""
    by_position: dict[int, list[float]] = {}
    for _ in range(repeats):
        for position, seconds in enumerate(time_reply_tokens(chatbot, prompt_ids, GREEDY), start=1):
            by_position.setdefault(position, []).append(seconds)
    return by_position


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT), help="bundle folder (default: checkpoints/chatbot)")
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds of ours and the floor (default: %(default)s)")
    parser.add_argument("--tutorial-tokens", type=int, default=8, help="tokens decoded the tutorial way, each a model.predict call (default: %(default)s)")
    args = parser.parse_args(argv)

    chatbot = Chatbot.load(args.checkpoint)
    config = chatbot.config
    print(
        f"checkpoint {chatbot.bundle.path}: {config.layers} x LSTM({config.units}), "
        f"embedding {config.embedding_dim}, vocabulary {config.vocab_size}; "
        f"NumPy {np.__version__}, {os.cpu_count()} CPUs"
    )
    corpus_prompts = sorted({preprocess.detokenize(prompt) for prompt, _ in preprocess.load_corpus(None).pairs})
    prompts = [chatbot.encode_prompt(text) for text in corpus_prompts]

    floor = NumpyFloor(chatbot.bundle.model, config.layers)
    floor_tokens = [token for prompt in prompts[:40] for token in prompt]
    ours: list[float] = []
    ours_greedy: list[float] = []
    floor_times: list[float] = []
    batch: list[float] = []
    for round_index in range(args.rounds):
        for offset in range(40):
            prompt = prompts[(round_index * 40 + offset) % len(prompts)]
            options = SamplingOptions(seed=round_index * 40 + offset, max_new_tokens=SAMPLING.max_new_tokens)
            ours += time_reply_tokens(chatbot, prompt, options.validate())
            ours_greedy += time_reply_tokens(chatbot, prompt, GREEDY)
        floor_times += floor.time_tokens(floor_tokens)
        batch += time_batch_steps(chatbot, prompts, steps=60, first_request=round_index * 1000)

    growth = growth_report(chatbot, corpus_prompts, prompts)
    # The tutorial way runs last, because NumPy steps measured after
    # model.predict ran slower (batched steps: 3.9 ms before, 6.2 to 7.4 ms
    # after, in one run), likely from TensorFlow's own threads.
    tutorial = time_tutorial(chatbot, chatbot.encode_prompt("你好"), args.tutorial_tokens)
    tutorial_ms, ours_ms, greedy_ms, floor_ms = map(milliseconds, (tutorial, ours, ours_greedy, floor_times))
    batch_step_ms = milliseconds(batch)
    batch_token_ms = batch_step_ms / BATCH_ROWS
    print()
    print(f"{'approach':<34}{'ms/token':>10}{'tokens':>9}")
    print(f"{'tutorial: model.predict per token':<34}{tutorial_ms:>10.3f}{len(tutorial):>9}")
    print(f"{'ours, 1 request, sampled':<34}{ours_ms:>10.3f}{len(ours):>9}")
    print(f"{'ours, 1 request, greedy':<34}{greedy_ms:>10.3f}{len(ours_greedy):>9}")
    print(f"{'NumPy floor':<34}{floor_ms:>10.3f}{len(floor_times):>9}")
    print(f"{'ours, 16 requests, per token':<34}{batch_token_ms:>10.3f}{len(batch) * BATCH_ROWS:>9}")
    print(f"  (one batched step of 16 rows: {batch_step_ms:.3f} ms)")
    print()
    print(f"tutorial / ours (sampled)      {tutorial_ms / ours_ms:8.1f}x")
    print(f"ours (sampled) / floor         {ours_ms / floor_ms:8.2f}x")
    print(f"ours (greedy) / floor          {greedy_ms / floor_ms:8.2f}x")
    print(f"per token at 16 requests / 1   {batch_token_ms / ours_ms:8.2f}x")

    print()
    print("\n".join(growth))
    return 0


def growth_report(chatbot: Chatbot, corpus_prompts: list[str], prompts: list[list[int]]) -> list[str]:
    """Measure the time per reply token for short and long prompts, and early and late positions."""
    lengths = [len(list(chatbot.generate_ids(prompt, GREEDY))) for prompt in prompts]
    longest = prompts[int(np.argmax(lengths))]
    by_position = time_by_position(chatbot, longest, repeats=30)
    early = [seconds for position in range(1, 6) for seconds in by_position.get(position, [])]
    late = [seconds for position in range(36, 41) for seconds in by_position.get(position, [])]

    # Short and long prompts alternate, so a change in machine load hits both.
    filler = [token for prompt in prompts for token in prompt[:-1]]
    by_size: dict[int, list[float]] = {4: [], 32: []}
    for index, prompt in enumerate(prompts[:60]):
        context = filler[index * 7 : index * 7 + 40] + prompt[:-1]  # other prompts' tokens, then this one's
        for size, times in by_size.items():
            ids = context[-(size - 1) :] + [preprocess.SEP_ID]  # exactly `size` tokens
            times += time_reply_tokens(chatbot, ids, GREEDY)

    longest_text = corpus_prompts[int(np.argmax(lengths))]
    lines = [
        f"greedy time per reply token, longest greedy reply ({max(lengths)} tokens, "
        f"prompt {longest_text!r}), 30 replies:",
        f"  tokens 1-5    {milliseconds(early):.3f} ms",
        f"  tokens 36-40  {milliseconds(late):.3f} ms",
        "greedy time per reply token by prompt length, 60 prompts each:",
    ]
    for size, times in by_size.items():
        lines.append(f"  {size:>2}-token prompts  {milliseconds(times):.3f} ms  ({len(times)} tokens)")
    return lines


if __name__ == "__main__":
    sys.exit(main())
