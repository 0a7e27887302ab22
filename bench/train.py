"""Measure training throughput and tokenisation time, side by side in one run.

    python bench/train.py                        # lost.conv of the subtitles corpus, 2,000 pairs
    python bench/train.py --data /work/shared/corpora/subtitles --pairs 5000 --rounds 3

Three ways of training the default model (1 x LSTM(256), embedding 128,
batch --batch-size, vocabulary up to 8,000) on the same pairs, from the same initial
weights:

    plain      every sequence padded to the longest, logits at every position
    bucketed   batches of similar length (train.make_dataset), logits everywhere
    pipeline   batches of similar length, logits only at the reply positions,
               which is what train.py does

Each is timed over the same number of epochs, after one warm-up batch that
traces the step. The rounds alternate between the variants so that load from
other processes falls on all of them alike. Throughput is counted in
training tokens per second (every position of every sequence, as train.py's
epoch line counts them), so the ratios compare equal work.

Tokenising is timed twice on the whole corpus: cold (into an empty cache
folder) and again from that cache. Segmenting --turns turns is timed in one
process and in one worker process per core (preprocess.tokenize_many).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

import preprocess  # noqa: E402
import train  # noqa: E402
from model import ModelConfig, build_model  # noqa: E402

DEFAULT_DATA = "/work/shared/corpora/subtitles/lost.conv"
VARIANTS = {
    # name: (pad every sequence to the longest, logits at every position)
    "plain": (True, True),
    "bucketed": (False, True),
    "pipeline": (False, False),
}


def time_tokenising(sources: list[str]) -> tuple[preprocess.Corpus, float, float]:
    """Return the corpus and the seconds to tokenise it cold and from the cache."""
    tokenizer = preprocess.Tokenizer()
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        corpus = preprocess.load_corpus(sources, tokenizer, cache_dir=cache)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        cached = preprocess.load_corpus(sources, tokenizer, cache_dir=cache)
        warm = time.perf_counter() - started
    if cached.cached_files != cached.files:
        raise RuntimeError(f"only {cached.cached_files} of {cached.files} files came from the cache")
    return corpus, cold, warm


def time_workers(corpus: preprocess.Corpus, turns: int) -> tuple[float, float]:
    """Return the seconds to segment `turns` turns in one process and on all cores."""
    texts = [preprocess.detokenize(reply) for _, reply in corpus.pairs[:turns]]
    tokenizer = preprocess.Tokenizer()
    seconds = []
    for workers in (1, os.cpu_count() or 1):
        started = time.perf_counter()
        preprocess.tokenize_many(texts, tokenizer, workers=workers, min_texts=1)
        seconds.append(time.perf_counter() - started)
    return seconds[0], seconds[1]


def time_epochs(
    model, initial_weights, examples, padded: bool, all_logits: bool, epochs: int, seed: int, batch_size: int
) -> float:
    """Train `epochs` epochs from `initial_weights`; return the seconds, warm-up excluded."""
    import keras
    import tensorflow as tf

    model.set_weights(initial_weights)
    model.compile(optimizer=keras.optimizers.AdamW(3e-3, clipnorm=1.0))
    steps = train.Steps(model, tf.distribute.get_strategy(), all_logits=all_logits)
    longest = max(len(s) for s in examples.sequences) - 1 if padded else None
    dataset = train.make_dataset(examples, batch_size, seed, padded_length=longest)

    steps.train_step(*next(iter(dataset)))  # traces the step
    started = time.perf_counter()
    for _ in range(epochs):
        for batch in dataset:
            steps.train_step(*batch)
    return time.perf_counter() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", nargs="+", default=[DEFAULT_DATA], help="corpus files or folders (default: %(default)s)")
    parser.add_argument("--pairs", type=int, default=2000, help="training pairs drawn at random from the corpus (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per variant and round (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds over all variants; the median is reported (default: %(default)s)")
    parser.add_argument("--turns", type=int, default=20000, help="turns segmented in one process and on all cores (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=128, help="sequences per batch; train.py uses 128 for corpora of 5,000 pairs or more (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=42, help="(default: %(default)s)")
    args = parser.parse_args(argv)

    import keras
    import tensorflow as tf

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, TensorFlow {tf.__version__}")
    corpus, cold, warm = time_tokenising(args.data)
    stats = corpus.statistics()
    print(
        f"tokenise {stats['files']} files, {stats['pairs']:,} pairs, {stats['tokens']:,} tokens: "
        f"cold {cold:.1f}s, cached {warm:.1f}s ({cold / warm:.0f}x)"
    )
    one, all_cores = time_workers(corpus, args.turns)
    print(
        f"segment {min(args.turns, len(corpus.pairs)):,} turns: one process {one:.1f}s, "
        f"{os.cpu_count()} worker processes {all_cores:.1f}s ({one / all_cores:.2f}x)"
    )

    keras.utils.set_random_seed(args.seed)
    vocabulary = preprocess.Vocabulary.build(corpus.token_counts(), max_size=8000)
    config = ModelConfig(vocab_size=len(vocabulary), embedding_dim=128, units=256, layers=1)
    order = np.random.default_rng(args.seed).permutation(len(corpus.pairs))[: args.pairs]
    examples = train.make_examples([corpus.pairs[i] for i in order], vocabulary, config)
    lengths = [len(s) - 1 for s in examples.sequences]
    print(
        f"training sample: {len(lengths):,} pairs, {examples.tokens():,} tokens, "
        f"sequence length mean {np.mean(lengths):.1f}, max {max(lengths)}; vocabulary {len(vocabulary):,}"
    )

    model = build_model(config)
    initial_weights = model.get_weights()
    seconds = {name: [] for name in VARIANTS}
    for round_number in range(1, args.rounds + 1):
        for name, (padded, all_logits) in VARIANTS.items():
            elapsed = time_epochs(
                model, initial_weights, examples, padded, all_logits, args.epochs, args.seed, args.batch_size
            )
            seconds[name].append(elapsed)
            print(f"  round {round_number} {name:<9} {elapsed:6.1f}s", flush=True)

    tokens = examples.tokens() * args.epochs
    plain = tokens / statistics.median(seconds["plain"])
    print(f"{'variant':<10} {'tokens/s':>9} {'vs plain':>9}")
    for name in VARIANTS:
        rate = tokens / statistics.median(seconds[name])
        print(f"{name:<10} {rate:>9,.0f} {rate / plain:>8.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
