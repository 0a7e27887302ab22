"""Reply generation: sampling controls, seeds, batching and streaming.

Runs against real trained models: the tiny model trained by conftest.py and
the committed default checkpoint.
"""

import threading

import numpy as np
import pytest

import preprocess
from model import (
    END_ID,
    NEVER_GENERATED,
    ReplyEngine,
    SamplingBatch,
    SamplingOptions,
    sample_tokens,
)

PROMPTS = ["你好", "你是谁", "什么是ai", "what is your name", "Hello 😀 量子纠缠", "给我讲个笑话"]
# The default model's greedy reply to this prompt repeats 15 of its 34 tokens,
# because the corpus reply contains "接受，包容和理解" twice. The model stops by
# itself within 48 tokens, so no prompt makes it loop for ever.
REPEATING_PROMPT = "什么是爱"


def reply_ids(chatbot, text, options):
    return list(chatbot.generate_ids(chatbot.encode_prompt(text), options.validate()))


@pytest.fixture(params=["tiny_chatbot", "default_chatbot"])
def chatbot(request):
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="module")
def engine(default_chatbot):
    return ReplyEngine(default_chatbot, max_active=32)


@pytest.mark.parametrize("text", PROMPTS)
@pytest.mark.parametrize("seed", [0, 7, 12345])
def test_same_seed_same_reply(chatbot, text, seed):
    options = SamplingOptions(temperature=1.2, top_k=0, top_p=1.0, seed=seed)
    first = reply_ids(chatbot, text, options)
    second = reply_ids(chatbot, text, options)
    assert first == second


def test_different_seeds_differ(default_chatbot):
    replies = {
        tuple(reply_ids(default_chatbot, "你好", SamplingOptions(temperature=1.5, top_k=0, top_p=1.0, seed=seed)))
        for seed in range(10)
    }
    assert len(replies) > 1


@pytest.mark.parametrize("text", PROMPTS)
def test_temperature_zero_is_deterministic(chatbot, text):
    options = SamplingOptions(temperature=0.0)  # seed -1: a fresh seed per reply
    first = reply_ids(chatbot, text, options)
    second = reply_ids(chatbot, text, options)
    assert first == second


@pytest.mark.parametrize("text", PROMPTS)
@pytest.mark.parametrize("seed", [1, 2])
def test_top_k_one_equals_greedy(chatbot, text, seed):
    greedy = reply_ids(chatbot, text, SamplingOptions(temperature=0.0))
    top_one = reply_ids(chatbot, text, SamplingOptions(temperature=1.5, top_k=1, top_p=1.0, seed=seed))
    assert top_one == greedy


def count_repeats(ids):
    return len(ids) - len(set(ids))


@pytest.mark.parametrize("penalty", [1.5, 2.0, 3.0])
def test_repetition_penalty_reduces_repeats(default_chatbot, penalty):
    plain = reply_ids(default_chatbot, REPEATING_PROMPT, SamplingOptions(temperature=0.0, max_new_tokens=200))
    penalised = reply_ids(
        default_chatbot,
        REPEATING_PROMPT,
        SamplingOptions(temperature=0.0, max_new_tokens=200, repetition_penalty=penalty),
    )
    assert count_repeats(plain) >= 10, "the prompt no longer makes the model repeat itself"
    assert count_repeats(penalised) < count_repeats(plain)


def collect(request):
    """Read a submitted request's tokens until the engine marks its end."""
    tokens = []
    while True:
        token = request.updates.get(timeout=60)
        if token is None:
            return tokens
        if isinstance(token, BaseException):
            raise token
        tokens.append(token)


BATCH_OPTIONS = {
    "greedy": lambda index: SamplingOptions(temperature=0.0, max_new_tokens=48),
    "sampled": lambda index: SamplingOptions(temperature=0.9, top_k=30, top_p=0.95, seed=100 + index),
    "penalised": lambda index: SamplingOptions(temperature=0.7, repetition_penalty=1.3, seed=index),
    "mixed": lambda index: [
        SamplingOptions(temperature=0.0),
        SamplingOptions(temperature=1.0, top_k=0, top_p=1.0, seed=index),
        SamplingOptions(temperature=0.5, top_k=0, top_p=0.5, seed=index),
        SamplingOptions(temperature=0.8, top_k=5, top_p=0.9, repetition_penalty=2.0, seed=index),
    ][index % 4],
}


@pytest.mark.parametrize("kind", sorted(BATCH_OPTIONS))
def test_batched_replies_equal_one_by_one(default_chatbot, engine, kind):
    prompts = PROMPTS + [REPEATING_PROMPT, "什么是维纳斯", "你喜欢什么", "再见"]
    options = [BATCH_OPTIONS[kind](index).validate() for index in range(len(prompts))]
    requests = [engine.submit(text, option) for text, option in zip(prompts, options)]
    batched = [collect(request) for request in requests]
    for text, option, tokens in zip(prompts, options, batched):
        alone = reply_ids(default_chatbot, text, option)
        assert tokens == alone, text


def test_engine_serves_concurrent_streams(default_chatbot, engine):
    prompts = PROMPTS * 3
    options = SamplingOptions(temperature=0.0)
    results = [None] * len(prompts)

    def run(index):
        results[index] = engine.reply(prompts[index], options)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(prompts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for text, result in zip(prompts, results):
        assert result == default_chatbot.reply(text, options), text


def make_batch(options_list, vocab_size):
    return SamplingBatch.from_options([options.validate() for options in options_list], vocab_size)


ROW_OPTIONS = [
    SamplingOptions(temperature=0.0),
    SamplingOptions(temperature=0.7, top_k=20, top_p=0.9),
    SamplingOptions(temperature=1.0, top_k=1),
    SamplingOptions(temperature=1.0, top_k=0, top_p=0.5),
    SamplingOptions(temperature=1.3, top_k=0, top_p=1.0),
    SamplingOptions(temperature=0.4, top_k=300, top_p=0.99, repetition_penalty=1.8),
]


@pytest.mark.parametrize("seed", range(5))
def test_sample_row_independent_of_batch(seed):
    rng = np.random.default_rng(seed)
    vocab_size = 500
    logits = rng.normal(0, 3, size=(len(ROW_OPTIONS), vocab_size)).astype(np.float32)
    uniforms = rng.random(len(ROW_OPTIONS)).astype(np.float32)
    seen = [list(rng.integers(4, vocab_size, size=5)) for _ in ROW_OPTIONS]
    together = sample_tokens(logits.copy(), make_batch(ROW_OPTIONS, vocab_size), uniforms, seen)
    for row, options in enumerate(ROW_OPTIONS):
        alone = sample_tokens(logits[row : row + 1].copy(), make_batch([options], vocab_size), uniforms[row : row + 1], seen[row : row + 1])
        assert together[row] == alone[0], options


def draw_many(logits, options, draws=4000):
    rng = np.random.default_rng(0)
    controls = make_batch([options] * draws, logits.size)
    batch = np.repeat(logits[None, :], draws, axis=0).astype(np.float32)
    return sample_tokens(batch, controls, rng.random(draws).astype(np.float32))


# Ids 0 to 2 are masked special tokens, and <end> (id 3) gets a logit so low
# that it is drawn about once in 20,000 draws.
LOGITS = np.array([0.0, 0.0, 0.0, -10.0, 2.0, 1.5, 1.0, 0.5, 0.0, -0.5, -1.0, -2.0], np.float32)


def softmax(values):
    exp = np.exp(values - values.max())
    return exp / exp.sum()


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_sampling_follows_softmax(temperature):
    tokens = draw_many(LOGITS, SamplingOptions(temperature=temperature, top_k=0, top_p=1.0))
    expected = softmax(LOGITS[4:] / temperature)
    observed = np.bincount(tokens, minlength=LOGITS.size)[4:] / len(tokens)
    np.testing.assert_allclose(observed, expected, atol=0.03)


@pytest.mark.parametrize(
    "options, allowed",
    [
        (SamplingOptions(temperature=1.0, top_k=2, top_p=1.0), {4, 5}),
        (SamplingOptions(temperature=1.0, top_k=0, top_p=0.5), {4, 5}),
        (SamplingOptions(temperature=1.0, top_k=3, top_p=0.01), {4}),
        (SamplingOptions(temperature=1.0, top_k=6, top_p=0.8), {4, 5, 6}),
    ],
)
def test_sampling_keeps_only_top_tokens(options, allowed):
    # The probabilities of ids 4 to 11 are 0.40, 0.24, 0.15, 0.09, 0.05, 0.03,
    # 0.02 and 0.01. Renormalised over the top 6 they add up to 0.41, 0.67 and
    # 0.82 after ids 4, 5 and 6, so top_p 0.8 stops at id 6.
    tokens = set(draw_many(LOGITS, options).tolist())
    assert tokens == allowed


def test_sampling_never_draws_special_ids():
    logits = np.full(12, -5.0, np.float32)
    logits[list(NEVER_GENERATED)] = 10.0
    tokens = draw_many(logits, SamplingOptions(temperature=2.0, top_k=0, top_p=1.0))
    assert not set(tokens.tolist()) & set(NEVER_GENERATED)


def test_first_token_is_never_end():
    logits = np.full((1, 12), -5.0, np.float32)
    logits[0, END_ID] = 10.0
    controls = make_batch([SamplingOptions(temperature=0.0)], 12)
    assert sample_tokens(logits.copy(), controls, np.zeros(1, np.float32), allow_end=False)[0] != END_ID
    assert sample_tokens(logits.copy(), controls, np.zeros(1, np.float32), allow_end=True)[0] == END_ID


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("temperature", -0.1, r"temperature must be a number from 0.0 to 5.0, got -0.1"),
        ("temperature", 5.5, r"temperature must be a number from 0.0 to 5.0, got 5.5"),
        ("temperature", float("nan"), r"temperature must be a number from 0.0 to 5.0, got nan"),
        ("top_k", -1, r"top_k must be an integer from 0 to 1000, got -1"),
        ("top_k", 1001, r"top_k must be an integer from 0 to 1000, got 1001"),
        ("top_k", 2.5, r"top_k must be an integer from 0 to 1000, got 2.5"),
        ("top_p", 0.0, r"top_p must be a number from 0.01 to 1.0, got 0.0"),
        ("top_p", 1.01, r"top_p must be a number from 0.01 to 1.0, got 1.01"),
        ("repetition_penalty", 0.9, r"repetition_penalty must be a number from 1.0 to 5.0, got 0.9"),
        ("repetition_penalty", 6, r"repetition_penalty must be a number from 1.0 to 5.0, got 6"),
        ("max_new_tokens", 0, r"max_new_tokens must be an integer from 1 to 512, got 0"),
        ("max_new_tokens", 513, r"max_new_tokens must be an integer from 1 to 512, got 513"),
        ("seed", -2, r"seed must be an integer from -1 to 2147483647, got -2"),
        ("seed", "7", r"seed must be a number from -1 to 2147483647, got '7'"),
    ],
)
def test_options_reject_out_of_range(field, value, message):
    options = SamplingOptions(**{field: value})
    with pytest.raises(ValueError, match=message):
        options.validate()


@pytest.mark.parametrize("field", ["temperature", "top_p", "max_new_tokens"])
def test_stream_rejects_invalid_options(default_chatbot, field):
    with pytest.raises(ValueError, match=field):
        next(default_chatbot.stream("你好", SamplingOptions(**{field: -5})))


@pytest.mark.parametrize("field", ["top_k", "max_new_tokens", "seed"])
def test_engine_rejects_invalid_options(default_chatbot, engine, field):
    with pytest.raises(ValueError, match=field):
        engine.submit("你好", SamplingOptions(**{field: -5}))
    greedy = SamplingOptions(temperature=0.0)
    assert engine.reply("你好", greedy) == default_chatbot.reply("你好", greedy)


STREAM_PROMPTS = ["什么是ai", "你的兴趣是什么", "什么样的硬件"]


@pytest.mark.parametrize("text", STREAM_PROMPTS)
def test_chatbot_stream_grows_to_reply(default_chatbot, text):
    options = SamplingOptions(temperature=0.0)
    updates = list(default_chatbot.stream(text, options))
    assert len(updates) > 1
    assert updates[-1] == default_chatbot.reply(text, options)
    assert all(later.startswith(earlier) for earlier, later in zip(updates, updates[1:]))


@pytest.mark.parametrize("text", STREAM_PROMPTS)
def test_engine_stream_grows_to_reply(default_chatbot, engine, text):
    options = SamplingOptions(temperature=0.0)
    updates = list(engine.stream(text, options))
    assert len(updates) > 1
    assert updates[-1] == default_chatbot.reply(text, options)


@pytest.mark.parametrize("text", STREAM_PROMPTS + ["what is your name"])
def test_stream_text_equals_detokenized_ids(chatbot, text):
    options = SamplingOptions(temperature=0.0)
    ids = reply_ids(chatbot, text, options)
    expected = preprocess.detokenize(chatbot.vocabulary.decode(ids))
    assert list(chatbot.stream(text, options))[-1] == expected


def test_prefill_logits_equal_forward_pass(default_chatbot):
    """Prompts of different lengths fed together give Keras's logits after each one's last token."""
    prompts = [default_chatbot.encode_prompt(text) for text in ["你好", "什么是维纳斯", "Hello 😀 量子纠缠 " * 4]]
    logits, _ = default_chatbot.decoder.prefill(prompts)
    for row, prompt in enumerate(prompts):
        expected = np.asarray(default_chatbot.bundle.model(np.array([prompt], np.int32)))[0, -1]
        np.testing.assert_allclose(logits[row], expected, atol=1e-4)


def test_reply_steps_equal_forward_pass(default_chatbot):
    """The logits behind each reply token equal Keras's forward pass over the whole prefix."""
    prompt = default_chatbot.encode_prompt("什么是ai")
    reply = reply_ids(default_chatbot, "什么是ai", SamplingOptions(temperature=0.0))
    sequence = np.array([prompt + reply], np.int32)
    expected = np.asarray(default_chatbot.bundle.model(sequence))[0]  # (time, vocab)
    decoder = default_chatbot.decoder
    logits, state = decoder.prefill([prompt])
    for position, token in enumerate(reply):
        np.testing.assert_allclose(logits[0], expected[len(prompt) - 1 + position], atol=1e-4)
        logits, state = decoder.step(np.array([token]), state)
