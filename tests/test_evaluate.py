"""Evaluation figures of a checkpoint on a tiny corpus."""

import json

import pytest

import evaluate
import preprocess
from model import ModelConfig, build_model, save_bundle


@pytest.fixture(scope="module")
def untrained_checkpoint(tmp_path_factory, tiny_corpus):
    """A bundle whose model has its initial random weights."""
    import keras

    keras.utils.set_random_seed(0)
    corpus = preprocess.load_corpus([tiny_corpus])
    vocabulary = preprocess.Vocabulary.build(corpus.token_counts())
    config = ModelConfig(vocab_size=len(vocabulary), embedding_dim=16, units=32, layers=1)
    out = tmp_path_factory.mktemp("untrained") / "bundle"
    save_bundle(out, build_model(config), vocabulary, config, preprocess.Tokenizer(), {})
    return out


def run_json(capsys, *argv) -> dict:
    assert evaluate.main([*map(str, argv), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_untrained_perplexity_near_vocabulary_size(untrained_checkpoint, tiny_corpus, capsys):
    result = run_json(capsys, untrained_checkpoint, "--data", tiny_corpus)
    assert result["loss_on"] == "all pairs of the corpus"
    assert result["pairs"] == 8
    assert 0.8 * result["vocabulary"] < result["perplexity"] < 1.25 * result["vocabulary"]
    assert result["token_accuracy"] < 0.2


def test_trained_scores_are_sane(tiny_checkpoint, untrained_checkpoint, tiny_corpus, capsys):
    trained = run_json(capsys, tiny_checkpoint, "--data", tiny_corpus)
    untrained = run_json(capsys, untrained_checkpoint, "--data", tiny_corpus)
    # The tiny checkpoint trained on this corpus without a validation split.
    assert trained["loss_on"] == "training pairs (training held none out)"
    assert trained["perplexity"] < untrained["perplexity"]
    assert trained["reply_accuracy"]["prompts"] == 8
    assert 0 <= trained["reply_accuracy"]["accuracy"] <= 1
    assert trained["samples"] == 8
    assert 0 < trained["distinct_1"] <= 1
    assert 0 <= trained["distinct_2"] <= 1
    assert 1 <= trained["reply_length"] <= 48
    assert 0 <= trained["copied_share"] <= 1


def test_table_lists_every_figure(tiny_checkpoint, tiny_corpus, capsys):
    assert evaluate.main([str(tiny_checkpoint), "--data", str(tiny_corpus)]) == 0
    table = capsys.readouterr().out
    for name in ("perplexity", "token accuracy", "reply accuracy", "distinct-1", "distinct-2", "reply length", "copied replies"):
        assert name in table


def test_missing_checkpoint_is_an_error(tmp_path, capsys):
    assert evaluate.main([str(tmp_path / "none")]) == 1
    assert "no checkpoint at" in capsys.readouterr().err


@pytest.mark.parametrize(
    "replies,n,expected",
    [
        ([["我", "喜欢", "你"], ["我", "喜欢", "他"]], 1, 4 / 6),
        ([["我", "喜欢", "你"], ["我", "喜欢", "他"]], 2, 3 / 4),
        ([["hi", "hi", "hi"]], 1, 1 / 3),
        ([["😀"]], 2, 0.0),
        ([], 1, 0.0),
    ],
)
def test_distinct_n(replies, n, expected):
    assert evaluate.distinct_n(replies, n) == pytest.approx(expected)


def test_held_out_pairs_follow_training_split(default_chatbot):
    corpus = preprocess.load_corpus(None, tokenizer=default_chatbot.tokenizer)
    pairs, scored_on = evaluate.scored_pairs(default_chatbot, corpus.pairs, None)
    assert scored_on == "held-out pairs of the training corpus"
    assert len(pairs) == round(len(corpus.pairs) * 0.05)
