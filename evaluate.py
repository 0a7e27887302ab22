"""Measure how well a checkpoint replies to the prompts of a corpus.

The headline figure is the reply accuracy: the share of distinct prompts for
which the greedy reply is one of that prompt's replies in the corpus, after
both are put through the same tokenizer and joined back into text.

    python evaluate.py checkpoints/chatbot              # the default corpus
    python evaluate.py checkpoints/chatbot --data my.tsv
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict

import preprocess
from model import BundleError, Chatbot, SamplingOptions


def replies_by_prompt(pairs) -> dict[str, set[str]]:
    """Group the corpus replies under their prompt, both as detokenized text."""
    replies = defaultdict(set)
    for prompt, reply in pairs:
        replies[preprocess.detokenize(prompt)].add(preprocess.detokenize(reply))
    return replies


def reply_accuracy(chatbot: Chatbot, pairs) -> dict:
    """Return the share of prompts whose greedy reply is one of their corpus replies.

    Replies are compared after the vocabulary has mapped rare tokens to
    `<unk>`, since the model cannot produce a token it does not know.
    """
    greedy = SamplingOptions(temperature=0.0, max_new_tokens=chatbot.config.max_reply_tokens)
    expected = defaultdict(set)
    for prompt, reply in pairs:
        known = [t for t in reply[: chatbot.config.max_reply_tokens] if t in chatbot.vocabulary.ids]
        expected[preprocess.detokenize(prompt)].add(preprocess.detokenize(known))
    correct = sum(chatbot.reply(prompt, greedy) in replies for prompt, replies in expected.items())
    return {"prompts": len(expected), "correct": correct, "accuracy": correct / max(1, len(expected))}


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
    result = reply_accuracy(chatbot, corpus.pairs)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(f"reply accuracy  {result['accuracy']:.1%}  ({result['correct']} of {result['prompts']} prompts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
