"""Measure how well a checkpoint models and replies to a corpus.

    python evaluate.py checkpoints/chatbot              # the default corpus
    python evaluate.py checkpoints/chatbot --data my.tsv --json

The figures, all on the corpus given with --data (default: chatterbot-corpus
Chinese):

    loss, perplexity   mean cross-entropy per reply token (reply and <end>)
                       and its exponent. When the corpus is the one the
                       checkpoint was trained on and training held pairs
                       out, only those held-out pairs are scored.
    token accuracy     share of reply tokens that are the model's most
                       likely next token, on the same pairs
    reply accuracy     share of distinct prompts whose greedy reply is one
                       of that prompt's replies in the corpus
    distinct-1, -2     distinct unigrams and bigrams over all the tokens of
                       one sampled reply per prompt (temperature 0.7,
                       top-k 20, top-p 0.9, fixed seeds)
    reply length       mean tokens per sampled reply
    copied replies     share of sampled replies equal, word for word, to a
                       reply in the corpus

An untrained model predicts nearly uniformly, so its perplexity is close to
the vocabulary size; a model that has learned its corpus by heart scores
near 1 on that corpus.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict

import numpy as np

import preprocess
from model import BundleError, Chatbot, SamplingOptions

LOSS_BATCH_SIZE = 64


def replies_by_prompt(pairs) -> dict[str, set[str]]:
    """Group the corpus replies under their prompt, both as detokenized text."""
    replies = defaultdict(set)
    for prompt, reply in pairs:
        replies[preprocess.detokenize(prompt)].add(preprocess.detokenize(reply))
    return replies


def _known_reply_texts(chatbot: Chatbot, pairs) -> dict[str, set[str]]:
    """Group the replies under their prompt, without the tokens the model cannot produce."""
    expected = defaultdict(set)
    for prompt, reply in pairs:
        known = [t for t in reply[: chatbot.config.max_reply_tokens] if t in chatbot.vocabulary.ids]
        expected[preprocess.detokenize(prompt)].add(preprocess.detokenize(known))
    return expected


def reply_accuracy(chatbot: Chatbot, pairs) -> dict:
    """Return the share of prompts whose greedy reply is one of their corpus replies.

    Replies are compared after the vocabulary has mapped rare tokens to
    `<unk>`, since the model cannot produce a token it does not know.
    """
    greedy = SamplingOptions(temperature=0.0, max_new_tokens=chatbot.config.max_reply_tokens)
    expected = _known_reply_texts(chatbot, pairs)
    correct = sum(chatbot.reply(prompt, greedy) in replies for prompt, replies in expected.items())
    return {"prompts": len(expected), "correct": correct, "accuracy": correct / max(1, len(expected))}


def token_scores(chatbot: Chatbot, pairs) -> dict:
    """Return the loss, perplexity and next-token accuracy over the reply tokens of `pairs`."""
    from train import pad_batch

    config = chatbot.config
    sequences = [
        preprocess.build_sequence(
            chatbot.vocabulary.encode(prompt), chatbot.vocabulary.encode(reply),
            config.max_prompt_tokens, config.max_reply_tokens,
        )
        for prompt, reply in pairs
    ]
    total_loss, correct, count = 0.0, 0, 0
    for start in range(0, len(sequences), LOSS_BATCH_SIZE):
        inputs, targets, weights = pad_batch(sequences[start : start + LOSS_BATCH_SIZE])
        logits = np.asarray(chatbot.bundle.model(inputs, training=False), np.float64)  # (batch, time, vocab)
        shifted = logits - logits.max(axis=-1, keepdims=True)
        log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        target_log_probabilities = np.take_along_axis(log_probabilities, targets[..., None], axis=-1)[..., 0]
        mask = weights > 0
        total_loss -= float(target_log_probabilities[mask].sum())
        correct += int((logits.argmax(axis=-1) == targets)[mask].sum())
        count += int(mask.sum())
    loss = total_loss / max(1, count)
    return {
        "pairs": len(pairs),
        "reply_tokens": count,
        "loss": loss,
        "perplexity": math.exp(min(loss, 50)),
        "token_accuracy": correct / max(1, count),
    }


def distinct_n(replies: list[list[str]], n: int) -> float:
    """Return distinct n-grams over all n-grams of the replies (0 when there are none)."""
    grams = [tuple(reply[i : i + n]) for reply in replies for i in range(len(reply) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def sample_scores(chatbot: Chatbot, pairs, seed: int = 0) -> dict:
    """Sample one reply per distinct prompt; return diversity, length and copy share."""
    prompts = list(dict.fromkeys(preprocess.detokenize(prompt) for prompt, _ in pairs))
    corpus_replies = {preprocess.detokenize(reply) for _, reply in pairs}
    replies = []
    for index, prompt in enumerate(prompts):
        options = SamplingOptions(max_new_tokens=chatbot.config.max_reply_tokens, seed=seed + index)
        replies.append(list(chatbot.generate_ids(chatbot.encode_prompt(prompt), options.validate())))
    tokens = [chatbot.vocabulary.decode(reply) for reply in replies]
    copied = sum(preprocess.detokenize(reply) in corpus_replies for reply in tokens)
    return {
        "samples": len(replies),
        "distinct_1": distinct_n(tokens, 1),
        "distinct_2": distinct_n(tokens, 2),
        "reply_length": float(np.mean([len(reply) for reply in replies])) if replies else 0.0,
        "copied_share": copied / max(1, len(replies)),
    }


def scored_pairs(chatbot: Chatbot, pairs, data) -> tuple[list, str]:
    """Choose the pairs for the loss: the held-out ones when this is the training corpus."""
    from train import split_pairs

    settings = chatbot.bundle.summary.get("settings", {})
    same_corpus = settings.get("data") == data and settings.get("user_dict") is None
    share = settings.get("validation_split", 0)
    if same_corpus and share and "seed" in settings:
        _, held_out = split_pairs(pairs, share, settings["seed"])
        return held_out, "held-out pairs of the training corpus"
    if same_corpus:
        return pairs, "training pairs (training held none out)"
    return pairs, "all pairs of the corpus"


def evaluate(chatbot: Chatbot, corpus: preprocess.Corpus, data=None) -> dict:
    pairs, scored_on = scored_pairs(chatbot, corpus.pairs, data)
    return {
        "checkpoint": str(chatbot.bundle.path),
        "vocabulary": len(chatbot.vocabulary),
        "loss_on": scored_on,
        **token_scores(chatbot, pairs),
        "reply_accuracy": reply_accuracy(chatbot, corpus.pairs),
        **sample_scores(chatbot, corpus.pairs),
    }


def format_table(result: dict) -> str:
    accuracy = result["reply_accuracy"]
    rows = [
        ("checkpoint", result["checkpoint"]),
        ("vocabulary", f"{result['vocabulary']:,}"),
        ("scored on", f"{result['pairs']:,} {result['loss_on']}, {result['reply_tokens']:,} reply tokens"),
        ("loss", f"{result['loss']:.4f}"),
        ("perplexity", f"{result['perplexity']:.2f}"),
        ("token accuracy", f"{result['token_accuracy']:.1%}"),
        ("reply accuracy", f"{accuracy['accuracy']:.1%}  ({accuracy['correct']} of {accuracy['prompts']} prompts, greedy)"),
        ("distinct-1", f"{result['distinct_1']:.3f}  ({result['samples']} sampled replies)"),
        ("distinct-2", f"{result['distinct_2']:.3f}"),
        ("reply length", f"{result['reply_length']:.1f} tokens"),
        ("copied replies", f"{result['copied_share']:.1%}"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="bundle folder, for example checkpoints/chatbot")
    parser.add_argument("--data", nargs="+", help="corpus files, folders or globs (default: chatterbot-corpus Chinese)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    try:
        chatbot = Chatbot.load(args.checkpoint)
        corpus = preprocess.load_corpus(args.data, tokenizer=chatbot.tokenizer)
    except (BundleError, preprocess.CorpusError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    result = evaluate(chatbot, corpus, args.data)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
