"""The saved bundle, the step-by-step decoder and reply generation."""

import json
import shutil

import numpy as np
import pytest

import preprocess
from model import (
    NEVER_GENERATED,
    BundleError,
    Chatbot,
    Decoder,
    SamplingOptions,
    load_bundle,
)


def test_bundle_round_trip(tiny_checkpoint, tiny_chatbot):
    bundle = load_bundle(tiny_checkpoint)
    assert len(bundle.vocabulary) == bundle.config.vocab_size
    assert bundle.config.units == 32
    assert bundle.summary["epochs_run"] == 3
    assert "你好" in bundle.vocabulary.ids
    for name in ("model.keras", "vocab.json", "config.json", "training.json"):
        assert (tiny_checkpoint / name).is_file()


def test_bundle_rejects_foreign_vocabulary(tiny_checkpoint, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_checkpoint, broken)
    preprocess.Vocabulary(list(preprocess.SPECIAL_TOKENS) + ["别的", "词"]).save(broken / "vocab.json")
    with pytest.raises(BundleError, match=r"vocab.json belongs to another model"):
        load_bundle(broken)


def test_bundle_rejects_missing_checkpoint(tmp_path):
    with pytest.raises(BundleError, match=r"no checkpoint at .*nothing.*python train.py"):
        load_bundle(tmp_path / "nothing")


def test_bundle_rejects_truncated_model(tiny_checkpoint, tmp_path):
    broken = tmp_path / "truncated"
    shutil.copytree(tiny_checkpoint, broken)
    data = (broken / "model.keras").read_bytes()
    (broken / "model.keras").write_bytes(data[: len(data) // 2])
    with pytest.raises(BundleError, match=r"model.keras is truncated or corrupt"):
        load_bundle(broken)


def test_bundle_rejects_config_missing_fields(tiny_checkpoint, tmp_path):
    broken = tmp_path / "config"
    shutil.copytree(tiny_checkpoint, broken)
    config = json.loads((broken / "config.json").read_text(encoding="utf-8"))
    del config["model"]["units"]
    (broken / "config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(BundleError, match=r"config.json lacks the fields model.units"):
        load_bundle(broken)


@pytest.mark.parametrize("layers", [1, 2])
def test_step_logits_equal_forward_pass(layers):
    from model import ModelConfig, build_model

    config = ModelConfig(vocab_size=50, embedding_dim=8, units=16, layers=layers)
    model = build_model(config)
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(0, 0.5, w.shape).astype(np.float32) for w in model.get_weights()])
    tokens = rng.integers(4, 50, size=(3, 12)).astype(np.int32)
    expected = np.asarray(model(tokens))  # (batch, time, vocab), one forward pass
    decoder = Decoder(model, config)
    state = decoder.initial_state(3)
    for position in range(tokens.shape[1]):
        logits, state = decoder.step(tokens[:, position], state)
        np.testing.assert_allclose(logits, expected[:, position], atol=1e-4)


def test_generation_never_yields_special_tokens(tiny_chatbot):
    options = SamplingOptions(temperature=1.5, top_k=0, top_p=1.0, max_new_tokens=20)
    for seed in range(20):
        options.seed = seed
        ids = list(tiny_chatbot.generate_ids(tiny_chatbot.encode_prompt("你好"), options))
        assert ids, "a reply has at least one token"
        assert not set(ids) & set(NEVER_GENERATED)
        assert preprocess.END_ID not in ids
        assert len(ids) <= 20


def test_unknown_words_and_emoji_get_a_reply(tiny_chatbot):
    reply = tiny_chatbot.reply("Hello 😀 量子纠缠", SamplingOptions(temperature=0.0))
    assert reply.strip()
    assert "<unk>" not in reply


def test_long_prompt_keeps_last_tokens(tiny_chatbot):
    limit = tiny_chatbot.config.max_prompt_tokens
    ids = tiny_chatbot.encode_prompt("再见" * (limit + 10) + "你好")
    assert len(ids) == limit + 1
    assert ids[-2] == tiny_chatbot.vocabulary.ids["你好"]
    assert ids[-1] == preprocess.SEP_ID


def test_default_checkpoint_answers_hello(default_chatbot):
    reply = default_chatbot.reply("你好", SamplingOptions(temperature=0.0))
    assert any("\u4e00" <= char <= "\u9fff" for char in reply)
    assert not any(token in reply for token in preprocess.SPECIAL_TOKENS)


def test_default_checkpoint_reply_accuracy(default_chatbot):
    """The committed model reproduces a corpus reply for at least 90% of prompts."""
    import evaluate

    corpus = preprocess.load_corpus(None)
    result = evaluate.reply_accuracy(default_chatbot, corpus.pairs)
    assert result["prompts"] > 400
    assert result["accuracy"] >= 0.90, result
