"""Train the LSTM chatbot on a dialogue corpus and save a checkpoint bundle.

    python train.py                                   # default corpus -> checkpoints/chatbot
    python train.py --data my_faq.tsv --out checkpoints/faq
    python train.py --data corpora/ "logs/*.jsonl" --epochs 5 --resume

Each epoch prints one line (loss, validation loss, perplexity, tokens per
second); a progress bar runs within the epoch when the output is a terminal.
The checkpoint with the best validation loss is kept, training stops early
when the validation loss has not improved for --patience epochs, and a few
sample replies are printed at the end. Ctrl-C saves the weights and
optimizer state as they are at that moment, even in the first epoch, and
exits with status 130; `--resume` then starts the interrupted epoch again
from them.

Corpus formats (chosen by extension): .yml/.yaml chatterbot YAML, .conv
(`E` starts a dialogue, `M <text>` is a turn), .tsv (prompt<TAB>reply),
.jsonl ({"messages": [...]} or {"prompt", "response"}), .csv (header row;
--question-column, --answer-column) and .txt (blank-line separated dialogues,
one turn per line). A malformed line is skipped, counted and reported with
its file and line number. A file that is not UTF-8, is empty, contains no
dialogue, or is not valid YAML stops the run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import os
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import preprocess  # noqa: E402
from model import DEFAULT_CHECKPOINT, ModelConfig, build_model, save_bundle  # noqa: E402
from preprocess import PAD_ID, SEP_ID, CorpusError, Vocabulary  # noqa: E402

SAMPLE_PROMPTS = ("你好", "你是谁", "你喜欢什么", "什么是ai")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data = parser.add_argument_group("data")
    data.add_argument("--data", nargs="+", help="corpus files, folders or glob patterns, formats mixed freely (default: chatterbot-corpus Chinese)")
    data.add_argument("--user-dict", help="jieba user dictionary: one `word [frequency] [tag]` per line")
    data.add_argument("--question-column", help="CSV column holding the prompts (default: question, prompt, or the first)")
    data.add_argument("--answer-column", help="CSV column holding the replies (default: answer, response, or the second)")
    data.add_argument("--max-turn-chars", type=int, default=preprocess.MAX_TURN_CHARS, help="longest turn accepted, in characters (default: %(default)s)")
    data.add_argument("--cache-dir", default=".cache/tokens", help="where tokenised files are cached; '' turns caching off (default: %(default)s)")
    data.add_argument("--vocab-size", type=int, default=8000, help="maximum vocabulary size, special tokens included (default: %(default)s)")
    data.add_argument("--min-count", type=int, default=1, help="keep tokens seen at least this many times (default: %(default)s)")
    data.add_argument("--max-prompt-tokens", type=int, default=32, help="prompt tokens kept, the last ones (default: %(default)s)")
    data.add_argument("--max-reply-tokens", type=int, default=48, help="reply tokens kept, the first ones (default: %(default)s)")

    model = parser.add_argument_group("model")
    model.add_argument("--embedding-dim", type=int, default=128, help="(default: %(default)s)")
    model.add_argument("--units", type=int, default=256, help="LSTM units per layer (default: %(default)s)")
    model.add_argument("--layers", type=int, default=1, help="LSTM layers (default: %(default)s)")
    model.add_argument("--dropout", type=float, default=0.0, help="dropout rate between layers (default: %(default)s)")

    fit = parser.add_argument_group("training")
    fit.add_argument("--out", default=str(DEFAULT_CHECKPOINT), help="checkpoint folder to write (default: checkpoints/chatbot)")
    fit.add_argument("--epochs", type=int, default=80, help="maximum epochs (default: %(default)s)")
    fit.add_argument("--batch-size", type=int, default=None, help="sequences per batch and per device (default: 16 below 5,000 training pairs, where more updates per epoch learn the replies sooner; 128 from there, which trains 2.4x as many tokens per second)")
    fit.add_argument("--learning-rate", type=float, default=3e-3, help="(default: %(default)s)")
    fit.add_argument("--weight-decay", type=float, default=0.0, help="AdamW weight decay (default: %(default)s)")
    fit.add_argument("--validation-split", type=float, default=0.05, help="share of pairs held out for validation; 0 watches the training loss instead (default: %(default)s)")
    fit.add_argument("--monitor", choices=("auto", "val_loss", "loss"), default="auto", help="loss that early stopping and the best checkpoint follow; auto: the training loss for corpora under 5,000 pairs, which are learned by heart, else the validation loss (default: %(default)s)")
    fit.add_argument("--patience", type=int, default=10, help="epochs without improvement before stopping (default: %(default)s)")
    fit.add_argument("--seed", type=int, default=42, help="(default: %(default)s)")
    fit.add_argument("--resume", action="store_true", help="continue the run saved in --out, with its epoch and optimizer state")
    args = parser.parse_args(argv)
    if not 0 <= args.validation_split < 1:
        parser.error(f"--validation-split must be at least 0 and below 1, got {args.validation_split}")
    if args.batch_size is not None and args.batch_size < 1:
        parser.error(f"--batch-size must be at least 1, got {args.batch_size}")
    for name in ("epochs", "units", "layers", "embedding_dim", "vocab_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    return args


# ------------------------------------------------------------------- data


@dataclasses.dataclass
class Examples:
    """Training sequences as `prompt <sep> reply <end>` id lists."""

    sequences: list[list[int]]

    def tokens(self) -> int:
        return sum(len(s) - 1 for s in self.sequences)


def make_examples(pairs, vocabulary: Vocabulary, config: ModelConfig) -> Examples:
    return Examples(
        [
            preprocess.build_sequence(
                vocabulary.encode(prompt), vocabulary.encode(reply), config.max_prompt_tokens, config.max_reply_tokens
            )
            for prompt, reply in pairs
        ]
    )


def pad_batch(sequences: list[list[int]], length: int | None = None):
    """Return (inputs, targets, weights) arrays; weights cover the reply and `<end>`."""
    length = length or max(len(s) for s in sequences) - 1
    inputs = np.full((len(sequences), length), PAD_ID, np.int32)
    targets = np.full((len(sequences), length), PAD_ID, np.int32)
    weights = np.zeros((len(sequences), length), np.float32)
    for row, sequence in enumerate(sequences):
        n = len(sequence) - 1
        inputs[row, :n] = sequence[:-1]
        targets[row, :n] = sequence[1:]
        weights[row, sequence.index(SEP_ID) : n] = 1.0  # targets after <sep>: the reply and <end>
    return inputs, targets, weights


def length_batches(examples: Examples, batch_size: int, rng: np.random.Generator | None) -> list[list[list[int]]]:
    """Group sequences of similar length, so that batches carry little padding.

    With `rng`, ties are broken at random and the batch order is shuffled.
    """
    lengths = np.array([len(s) for s in examples.sequences])
    jitter = rng.random(len(lengths)) if rng is not None else np.zeros(len(lengths))
    order = np.lexsort((jitter, lengths))
    batches = [[examples.sequences[i] for i in order[start : start + batch_size]] for start in range(0, len(order), batch_size)]
    if rng is not None:
        rng.shuffle(batches)
    return batches


def make_dataset(examples: Examples, batch_size: int, seed: int | None, padded_length: int | None = None):
    """A tf.data pipeline of length-bucketed batches, reshuffled every epoch.

    `padded_length` pads every sequence to that length instead, the plain
    approach that the training benchmark compares against.
    """
    import tensorflow as tf

    epoch = [0]

    def generate():
        rng = np.random.default_rng(None if seed is None else seed + epoch[0])
        epoch[0] += 1
        for batch in length_batches(examples, batch_size, rng if seed is not None else None):
            yield pad_batch(batch, padded_length)

    signature = tuple(tf.TensorSpec((None, None), dtype) for dtype in (tf.int32, tf.int32, tf.float32))
    return tf.data.Dataset.from_generator(generate, output_signature=signature).prefetch(2)


def split_pairs(pairs, share: float, seed: int):
    """Hold out a random share of the pairs for validation."""
    if share <= 0:
        return list(pairs), []
    order = np.random.default_rng(seed).permutation(len(pairs))
    held_out = max(1, round(len(pairs) * share))
    return [pairs[i] for i in order[held_out:]], [pairs[i] for i in order[:held_out]]


# --------------------------------------------------------------- progress


class Progress:
    """One compact line per epoch, and a progress bar on a terminal."""

    def __init__(self, epochs: int, steps: int, tokens: int, stream=None):
        self.epochs, self.steps, self.tokens = epochs, steps, tokens
        # Looked up per call, not bound at import, since sys.stderr may be replaced.
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()

    def batch(self, epoch: int, step: int, loss: float) -> None:
        if not self.interactive:
            return
        done = int(24 * step / max(1, self.steps))
        self.stream.write(f"\repoch {epoch}/{self.epochs} [{'#' * done}{'.' * (24 - done)}] {step}/{self.steps} loss {loss:.4f}")
        self.stream.flush()

    def epoch(self, record: dict, best: bool) -> None:
        if self.interactive:
            self.stream.write("\r\033[K")
        validation = ""
        if record.get("val_loss") is not None:
            validation = f"  val_loss {record['val_loss']:.4f}  val_ppl {record['val_perplexity']:.2f}"
        print(
            f"epoch {record['epoch']:>3}/{self.epochs}  loss {record['loss']:.4f}  ppl {record['perplexity']:.2f}"
            f"{validation}  {record['tokens_per_second']:,.0f} tok/s  {record['seconds']:.1f}s{'  *' if best else ''}",
            flush=True,
        )


# ----------------------------------------------------------------- train


def train(args: argparse.Namespace) -> dict:
    import keras

    keras.utils.set_random_seed(args.seed)
    out = Path(args.out)
    tokenizer = preprocess.Tokenizer(args.user_dict)
    options = preprocess.ReaderOptions(args.question_column, args.answer_column, args.max_turn_chars)
    started = time.perf_counter()
    corpus = preprocess.load_corpus(args.data, tokenizer, options, cache_dir=args.cache_dir or None)
    if corpus.cached_files:
        print(f"tokens: {corpus.cached_files} of {corpus.files} files read from the cache in {args.cache_dir}")
    print(f"tokenised in {time.perf_counter() - started:.1f}s")

    resume = _load_resume_state(out) if args.resume else None
    if resume:
        vocabulary, config, history = resume["vocabulary"], resume["config"], resume["history"]
    else:
        vocabulary = Vocabulary.build(corpus.token_counts(), args.min_count, args.vocab_size)
        config = ModelConfig(
            vocab_size=len(vocabulary),
            embedding_dim=args.embedding_dim,
            units=args.units,
            layers=args.layers,
            dropout=args.dropout,
            max_prompt_tokens=args.max_prompt_tokens,
            max_reply_tokens=args.max_reply_tokens,
        )
        history = []
    previous_seconds = resume["seconds"] if resume else 0.0
    stats = corpus.statistics(vocabulary)
    print(preprocess.format_statistics(stats))

    train_pairs, validation_pairs = split_pairs(corpus.pairs, args.validation_split, args.seed)
    train_examples = make_examples(train_pairs, vocabulary, config)
    validation_examples = make_examples(validation_pairs, vocabulary, config)

    strategy = choose_strategy()
    if args.batch_size is None:
        args.batch_size = 16 if len(train_pairs) < MEMORISE_BELOW_PAIRS else 128
    batch_size = args.batch_size * strategy.num_replicas_in_sync
    with strategy.scope():
        if resume:
            model = resume["model"]
        else:
            model = build_model(config)
            # Compiled only to attach the optimizer, so that model.save keeps its state for --resume.
            model.compile(optimizer=keras.optimizers.AdamW(args.learning_rate, weight_decay=args.weight_decay, clipnorm=1.0))
        steps = Steps(model, strategy)
    print(
        f"model: {model.count_params():,} parameters, {config.layers} x LSTM({config.units}), "
        f"vocabulary {len(vocabulary):,}; {len(train_pairs):,} training and "
        f"{len(validation_pairs):,} validation pairs; {strategy.num_replicas_in_sync} device(s), batch {batch_size}"
    )
    train_data = make_dataset(train_examples, batch_size, args.seed)
    validation_data = make_dataset(validation_examples, batch_size, None) if validation_pairs else None
    if strategy.num_replicas_in_sync > 1:
        # NOTE: this multi-GPU path has only been run with one device.
        train_data = strategy.experimental_distribute_dataset(train_data)
        if validation_data is not None:
            validation_data = strategy.experimental_distribute_dataset(validation_data)

    monitor = choose_monitor(args.monitor, len(train_pairs), bool(validation_pairs))
    best = min((r[monitor] for r in history if r.get(monitor) is not None), default=math.inf)
    best_epoch = next((r["epoch"] for r in history if r.get(monitor) == best), None)
    batches_per_epoch = math.ceil(len(train_examples.sequences) / batch_size)
    progress = Progress(args.epochs, batches_per_epoch, train_examples.tokens())
    summary = {
        "corpus": stats,
        "settings": {k: v for k, v in vars(args).items() if k != "resume"},
        "history": history,
    }

    model_saved = [resume is not None]

    def save(epoch: int, improved: bool, finished: bool) -> None:
        summary.update(
            epochs_run=epoch,
            best_epoch=best_epoch,
            best_loss=best,
            monitor=monitor,
            finished=finished,
            seconds=round(previous_seconds + time.perf_counter() - started, 1),
        )
        extra = {} if finished else {"resume.keras": model}
        # A model.keras left by an earlier run into the same --out may belong to
        # another vocabulary, so it is kept only once this run has saved its own.
        keep_model = not improved and model_saved[0]
        save_bundle(out, None if keep_model else model, vocabulary, config, tokenizer, summary, extra)
        model_saved[0] = True

    first_epoch = len(history)
    epoch = first_epoch
    try:
        for epoch in range(first_epoch + 1, args.epochs + 1):
            record = run_epoch(steps, train_data, validation_data, epoch, progress, train_examples.tokens())
            history.append(record)
            improved = record[monitor] < best
            if improved:
                best, best_epoch = record[monitor], epoch
            progress.epoch(record, improved)
            stop = epoch - best_epoch >= args.patience
            save(epoch, improved, finished=stop or epoch == args.epochs)
            if stop:
                print(f"early stop: {monitor} has not improved for {args.patience} epochs")
                break
    except KeyboardInterrupt:
        # Save the weights and optimizer state as they are now, part-way through
        # the epoch, so that even an interrupted first epoch is not lost. The
        # best model.keras is kept as it is.
        print(f"\ninterrupted in epoch {epoch}; saving the resume state in {out} ...", flush=True)
        save(len(history), improved=False, finished=False)
        print(
            f"saved after {len(history)} complete epoch(s) and part of epoch {len(history) + 1}; "
            f"--resume starts epoch {len(history) + 1} again from the saved weights"
        )
        print(f"continue with: python train.py --resume --out {out} {_data_args(args)}".rstrip())
        raise
    print(f"best epoch {best_epoch}: {monitor} {best:.4f}")
    plot_history(history, out / "loss.png", best_epoch)
    print(f"loss plot: {out / 'loss.png'}")
    return summary


MEMORISE_BELOW_PAIRS = 5000


def choose_monitor(requested: str, train_pairs: int, has_validation: bool) -> str:
    """Pick the loss that early stopping and the best checkpoint follow.

    A small question-and-answer corpus is learned by heart: its validation
    loss is lowest after a few epochs, long before the replies are exact
    (on the default corpus, near epoch 10 of the 60 that exact replies
    take). So `auto` follows the training loss below MEMORISE_BELOW_PAIRS
    training pairs, and the validation loss from there up.
    """
    if requested == "val_loss" and not has_validation:
        raise CorpusError("--monitor val_loss needs a validation split above 0")
    if requested != "auto":
        monitor = requested
    elif has_validation and train_pairs >= MEMORISE_BELOW_PAIRS:
        monitor = "val_loss"
    else:
        monitor = "loss"
    reason = ""
    if requested == "auto":
        reason = (
            f" (auto: {train_pairs:,} training pairs, "
            f"{'at least' if monitor == 'val_loss' else 'fewer than'} {MEMORISE_BELOW_PAIRS:,}"
            f"{'' if has_validation else ', no validation split'})"
        )
    print(f"early stopping and the best checkpoint follow {monitor}{reason}")
    return monitor


def plot_history(history: list[dict], path: Path, best_epoch: int | None = None) -> None:
    """Draw training and validation loss and perplexity per epoch as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [r["epoch"] for r in history]
    figure, (loss_axes, perplexity_axes) = plt.subplots(1, 2, figsize=(10, 3.6), dpi=100)
    for key, label in (("loss", "training"), ("val_loss", "validation")):
        values = [r.get(key) for r in history]
        if any(v is not None for v in values):
            loss_axes.plot(epochs, values, label=label)
            perplexity_axes.plot(epochs, [math.exp(min(v, 50)) if v is not None else None for v in values], label=label)
    for axes, title in ((loss_axes, "loss per reply token"), (perplexity_axes, "perplexity (log scale)")):
        if best_epoch:
            axes.axvline(best_epoch, color="grey", linestyle=":", label=f"best epoch {best_epoch}")
        axes.set_xlabel("epoch")
        axes.set_title(title)
        axes.grid(alpha=0.3)
        axes.legend()
    perplexity_axes.set_yscale("log")
    figure.tight_layout()
    temporary = path.with_name(f".{path.name}.tmp.png")
    figure.savefig(temporary)
    plt.close(figure)
    os.replace(temporary, path)


def _data_args(args) -> str:
    return " ".join(["--data", *args.data]) if args.data else ""


class Steps:
    """The compiled training and evaluation steps, traced once for any batch shape.

    The loss is the mean cross-entropy per weighted target token, so that
    its exponent is the perplexity of the replies.

    With `all_logits=False` the logits layer runs only at the positions whose
    weight is above 0 (the reply and `<end>`). The prompt positions carry no
    loss, and the vocabulary-wide matrix product and softmax there are most
    of the cost of a step, so gathering the LSTM outputs first makes
    training several times faster without changing the loss or the saved
    model. `all_logits=True` computes them everywhere, the plain approach
    that bench/train.py compares against.
    """

    def __init__(self, model, strategy, all_logits: bool = False):
        import keras
        import tensorflow as tf

        self.model = model
        self.strategy = strategy
        replicas = strategy.num_replicas_in_sync
        spec = (
            tf.TensorSpec((None, None), tf.int32),
            tf.TensorSpec((None, None), tf.int32),
            tf.TensorSpec((None, None), tf.float32),
        )
        logits_layer = model.get_layer("logits")
        # The same layers and variables as `model`, up to the input of the logits layer.
        features = keras.Model(model.inputs, logits_layer.input, name="features")

        def losses(inputs, targets, weights, training):
            if all_logits:
                logits = model(inputs, training=training)  # (batch, time, vocab)
                per_token = tf.nn.sparse_softmax_cross_entropy_with_logits(targets, tf.cast(logits, tf.float32))
                return tf.reduce_sum(per_token * weights), tf.reduce_sum(weights)
            hidden = features(inputs, training=training)  # (batch, time, units)
            positions = tf.where(weights > 0)  # (reply tokens, 2)
            logits = logits_layer(tf.gather_nd(hidden, positions))  # (reply tokens, vocab)
            per_token = tf.nn.sparse_softmax_cross_entropy_with_logits(
                tf.gather_nd(targets, positions), tf.cast(logits, tf.float32)
            )
            return tf.reduce_sum(per_token * tf.gather_nd(weights, positions)), tf.reduce_sum(weights)

        def train_replica(inputs, targets, weights):
            with tf.GradientTape() as tape:
                total, count = losses(inputs, targets, weights, True)
                # Each replica averages its own tokens; the sum over replicas is then divided by their number.
                loss = total / tf.maximum(count, 1.0) / replicas
            gradients = tape.gradient(loss, model.trainable_variables)
            model.optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            return total, count

        def test_replica(inputs, targets, weights):
            return losses(inputs, targets, weights, False)

        def distributed(replica_fn):
            def run(inputs, targets, weights):
                total, count = strategy.run(replica_fn, args=(inputs, targets, weights))
                reduce = tf.distribute.ReduceOp.SUM
                return strategy.reduce(reduce, total, axis=None), strategy.reduce(reduce, count, axis=None)

            if replicas == 1:
                return tf.function(run, input_signature=spec)  # one trace for every batch shape
            return tf.function(run, reduce_retracing=True)

        self.train_step = distributed(train_replica)
        self.test_step = distributed(test_replica)


def run_epoch(steps: Steps, train_data, validation_data, epoch: int, progress: Progress, tokens: int) -> dict:
    """Train one epoch and return its record."""
    started = time.perf_counter()
    total, count = 0.0, 0.0
    for step, batch in enumerate(train_data, start=1):
        batch_total, batch_count = steps.train_step(*batch)
        total += float(batch_total)
        count += float(batch_count)
        progress.batch(epoch, step, total / max(count, 1.0))
    seconds = time.perf_counter() - started
    loss = total / max(count, 1.0)
    record = {
        "epoch": epoch,
        "loss": loss,
        "perplexity": math.exp(min(loss, 50)),
        "tokens_per_second": tokens / seconds,
        "seconds": seconds,
        "val_loss": None,
        "val_perplexity": None,
    }
    if validation_data is not None:
        val_loss = evaluate_loss(steps, validation_data)
        record.update(val_loss=val_loss, val_perplexity=math.exp(min(val_loss, 50)))
    return record


def evaluate_loss(steps: Steps, dataset) -> float:
    """Return the mean loss per reply token over a dataset."""
    total, count = 0.0, 0.0
    for batch in dataset:
        batch_total, batch_count = steps.test_step(*batch)
        total += float(batch_total)
        count += float(batch_count)
    return total / max(count, 1.0)


def choose_strategy():
    """MirroredStrategy over all GPUs when there are several, else the default."""
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def _load_resume_state(out: Path) -> dict:
    """Load the vocabulary, config, history and compiled model saved for --resume."""
    import keras

    from model import load_bundle

    bundle = load_bundle(out)
    state = out / "resume.keras"
    if not state.is_file():
        raise CorpusError(
            f"{state} is missing: the run in {out} finished, so there is nothing to "
            f"resume; train again without --resume, or with another --out"
        )
    model = keras.saving.load_model(state, compile=True, safe_mode=True)
    history = bundle.summary.get("history", [])
    print(f"resuming after epoch {len(history)} from {state}")
    return {
        "vocabulary": bundle.vocabulary,
        "config": bundle.config,
        "history": history,
        "model": model,
        "seconds": bundle.summary.get("seconds", 0.0),
    }


def print_samples(out: Path, prompts=SAMPLE_PROMPTS) -> None:
    from model import Chatbot, SamplingOptions

    chatbot = Chatbot.load(out)
    for prompt in prompts:
        print(f"  {prompt} -> {chatbot.reply(prompt, SamplingOptions(temperature=0.0))}")


def _stop_on_signals() -> dict:
    """Make Ctrl-C and SIGTERM raise KeyboardInterrupt, so both save and exit.

    A process started in the background by a non-interactive shell inherits
    SIGINT as ignored, and Python then never raises KeyboardInterrupt.
    Return the previous handlers, for `signal.signal` to restore.
    """
    if threading.current_thread() is not threading.main_thread():
        return {}  # signal handlers can only be set from the main thread

    def interrupt(signum, frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    return {number: signal.signal(number, interrupt) for number in (signal.SIGINT, signal.SIGTERM)}


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    previous_handlers = _stop_on_signals()
    try:
        train(args)
    except CorpusError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        for number, handler in previous_handlers.items():
            signal.signal(number, handler)
    print("sample replies (greedy):")
    print_samples(Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
