"""Training end to end on a tiny corpus."""

import hashlib
import json
import re
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

import train
from model import load_bundle, save_bundle
from preprocess import SEP_ID


def test_training_writes_a_loadable_checkpoint(tiny_checkpoint, capsys):
    summary = json.loads((tiny_checkpoint / "training.json").read_text(encoding="utf-8"))
    assert len(summary["history"]) == 3
    assert summary["finished"] is True
    assert not (tiny_checkpoint / "resume.keras").exists()
    assert (tiny_checkpoint / "loss.png").stat().st_size > 1000


def test_training_loss_falls(tiny_checkpoint):
    history = json.loads((tiny_checkpoint / "training.json").read_text(encoding="utf-8"))["history"]
    assert history[-1]["loss"] < history[0]["loss"]


def test_training_prints_epoch_lines(tiny_corpus, tmp_path, capsys):
    code = train.main(
        ["--data", str(tiny_corpus), "--out", str(tmp_path / "run"), "--epochs", "2", "--units", "16",
         "--embedding-dim", "8", "--batch-size", "4", "--validation-split", "0.25", "--cache-dir", ""]
    )
    output = capsys.readouterr().out
    assert code == 0
    assert "epoch   1/2  loss" in output
    assert "val_loss" in output
    assert "tok/s" in output
    assert "sample replies" in output


def test_training_rejects_empty_corpus(tmp_path, capsys):
    empty = tmp_path / "empty.tsv"
    empty.write_text("\n", encoding="utf-8")
    code = train.main(["--data", str(empty), "--out", str(tmp_path / "run"), "--cache-dir", ""])
    assert code == 1
    assert "empty.tsv: the file is empty" in capsys.readouterr().err


def tiny_args(corpus, out, *extra):
    """Arguments for a model small enough to train in about a second."""
    return [
        "--data", str(corpus), "--out", str(out), "--units", "16", "--embedding-dim", "8",
        "--batch-size", "4", "--validation-split", "0", "--cache-dir", "", *extra,
    ]


# ------------------------------------------------------------ faults

FAULTS = [
    ("not utf-8", "gbk.tsv", "你好\t嗨\n".encode("gbk"), "gbk.tsv: line 1 is not valid UTF-8.*iconv"),
    ("empty file", "empty.conv", b"", "empty.conv: the file is empty"),
    ("no dialogue", "lonely.txt", "只有一句\n".encode("utf-8"), "lonely.txt: no dialogue of two or more turns"),
    ("yaml syntax", "bad.yml", b"conversations:\n- - [unclosed\n", "bad.yml: YAML syntax error at line 3"),
    ("turn before E", "early.conv", "M 你好\nE\nM 嗨\nM 好\n".encode("utf-8"), "early.conv: line 1 is a turn before any `E` line"),
    ("long line", "long.tsv", ("你好\t" + "长" * 6000).encode("utf-8"), "long.tsv: line 1 contains a turn of 6,000 characters.*--max-turn-chars"),
    ("empty corpus", "blank.txt", "\u200b\n\x00\n".encode("utf-8"), "no \\(prompt, reply\\) pair left in .*blank.txt"),
]


@pytest.mark.parametrize("name,file_name,content,message", FAULTS, ids=[case[0] for case in FAULTS])
def test_training_fault_names_file(tmp_path, capsys, name, file_name, content, message):
    corpus = tmp_path / file_name
    corpus.write_bytes(content)
    code = train.main(tiny_args(corpus, tmp_path / "run"))
    error = capsys.readouterr().err
    assert code == 1
    assert re.search(message, error), error
    assert not (tmp_path / "run").exists()


def test_help_states_malformed_line_policy(capsys):
    with pytest.raises(SystemExit):
        train.parse_args(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "A malformed line is skipped, counted and reported with its file and line number" in help_text


# ------------------------------------------------------ training step


def test_reply_logits_loss_equals_all_logits_loss():
    import keras
    import tensorflow as tf

    from model import ModelConfig, build_model

    keras.utils.set_random_seed(3)
    model = build_model(ModelConfig(vocab_size=40, embedding_dim=8, units=16, layers=2))
    sequences = [[5, 6, 7, SEP_ID, 8, 3], [9, SEP_ID, 10, 3], [SEP_ID, 11, 12, 13, 3]]
    batch = train.pad_batch(sequences)
    strategy = tf.distribute.get_strategy()
    reply_total, reply_count = train.Steps(model, strategy).test_step(*batch)
    all_total, all_count = train.Steps(model, strategy, all_logits=True).test_step(*batch)
    assert float(reply_count) == 8.0  # reply tokens and <end>: 2 + 2 + 4
    assert float(all_count) == 8.0
    assert float(reply_total) == pytest.approx(float(all_total), rel=1e-5)


def test_length_batches_keep_similar_lengths():
    examples = train.Examples([[1] * length for length in (3, 20, 4, 21, 5, 22)])
    batches = train.length_batches(examples, 2, np.random.default_rng(0))
    assert sorted(sorted(len(s) for s in batch) for batch in batches) == [[3, 4], [5, 20], [21, 22]]


def test_default_strategy_path_trains(tiny_corpus, tmp_path, capsys):
    import tensorflow as tf

    strategy = train.choose_strategy()
    assert strategy.num_replicas_in_sync == 1
    assert isinstance(strategy, type(tf.distribute.get_strategy()))
    code = train.main(tiny_args(tiny_corpus, tmp_path / "run", "--epochs", "1"))
    assert code == 0
    assert "1 device(s), batch 4" in capsys.readouterr().out


# ------------------------------------------------- over-fitting controls


def test_early_stop_reports_best_epoch(tiny_corpus, tmp_path, capsys):
    # With a learning rate of 0 the loss never improves after epoch 1.
    out = tmp_path / "run"
    code = train.main(
        tiny_args(
            tiny_corpus, out, "--epochs", "6", "--patience", "2", "--learning-rate", "0",
            "--dropout", "0.2", "--weight-decay", "0.01", "--monitor", "loss",
        )
    )
    output = capsys.readouterr().out
    summary = json.loads((out / "training.json").read_text(encoding="utf-8"))
    assert code == 0
    assert "early stop: loss has not improved for 2 epochs" in output
    assert "best epoch 1: loss" in output
    assert summary["epochs_run"] == 3
    assert summary["best_epoch"] == 1
    assert load_bundle(out).config.dropout == 0.2
    assert summary["settings"]["weight_decay"] == 0.01


# -------------------------------------------------- resume and interrupts


def interrupt_at_epoch(monkeypatch, stop_epoch: int, iterations: list):
    """Make train.run_epoch raise KeyboardInterrupt when it reaches `stop_epoch`."""
    real_run_epoch = train.run_epoch

    def run_epoch(steps, train_data, validation_data, epoch, *args):
        iterations.append(int(steps.model.optimizer.iterations.numpy()))
        if epoch == stop_epoch:
            raise KeyboardInterrupt
        return real_run_epoch(steps, train_data, validation_data, epoch, *args)

    monkeypatch.setattr(train, "run_epoch", run_epoch)


def test_resume_continues_epochs_and_optimizer(tiny_corpus, tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    iterations = []
    interrupt_at_epoch(monkeypatch, 3, iterations)
    assert train.main(tiny_args(tiny_corpus, out, "--epochs", "4")) == 130
    output = capsys.readouterr().out
    assert "interrupted in epoch 3" in output
    assert "--resume starts epoch 3 again" in output
    assert (out / "resume.keras").is_file()
    steps_per_epoch = iterations[1]  # 8 pairs in batches of 4
    assert steps_per_epoch == 2
    assert json.loads((out / "training.json").read_text(encoding="utf-8"))["epochs_run"] == 2

    iterations.clear()
    monkeypatch.undo()
    interrupt_at_epoch(monkeypatch, None, iterations)
    assert train.main(tiny_args(tiny_corpus, out, "--epochs", "4", "--resume")) == 0
    output = capsys.readouterr().out
    summary = json.loads((out / "training.json").read_text(encoding="utf-8"))
    assert "resuming after epoch 2" in output
    assert "epoch   1/4" not in output
    assert [record["epoch"] for record in summary["history"]] == [1, 2, 3, 4]
    assert iterations == [2 * steps_per_epoch, 3 * steps_per_epoch]
    assert summary["finished"] is True
    assert not (out / "resume.keras").exists()


def test_interrupt_in_first_epoch_saves_state(tiny_corpus, tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    interrupt_at_epoch(monkeypatch, 1, [])
    assert train.main(tiny_args(tiny_corpus, out, "--epochs", "2")) == 130
    assert "saved after 0 complete epoch(s)" in capsys.readouterr().out
    assert (out / "resume.keras").is_file()
    assert load_bundle(out).summary["epochs_run"] == 0

    monkeypatch.undo()
    assert train.main(tiny_args(tiny_corpus, out, "--epochs", "2", "--resume")) == 0
    assert len(load_bundle(out).summary["history"]) == 2


def test_resume_without_state_says_what_to_do(tiny_checkpoint, tiny_corpus, tmp_path, capsys):
    out = tmp_path / "finished"
    shutil.copytree(tiny_checkpoint, out)
    assert train.main(tiny_args(tiny_corpus, out, "--resume")) == 1
    assert "resume.keras is missing" in capsys.readouterr().err


def test_sigint_saves_and_exits(tiny_corpus, tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "train.py", *tiny_args(tiny_corpus, out, "--epochs", "100000", "--patience", "100000")]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = []
    for line in process.stdout:
        output.append(line)
        if line.startswith("epoch   2/"):
            process.send_signal(signal.SIGINT)
            break
    output.append(process.communicate(timeout=120)[0])
    text = "".join(output)
    assert process.returncode == 130, text
    assert "saving the resume state" in text
    assert "continue with: python train.py --resume" in text
    assert (out / "resume.keras").is_file()
    assert load_bundle(out).summary["finished"] is False


def test_interrupted_save_keeps_previous_checkpoint(tiny_checkpoint, tmp_path, monkeypatch):
    import preprocess

    out = tmp_path / "checkpoint"
    shutil.copytree(tiny_checkpoint, out)
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    bundle = load_bundle(out)

    def fail(self, path):
        raise OSError("disk full")

    # model.keras is already staged when the vocabulary is written.
    monkeypatch.setattr(preprocess.Vocabulary, "save", fail)
    with pytest.raises(OSError, match="disk full"):
        save_bundle(out, bundle.model, bundle.vocabulary, bundle.config, bundle.tokenizer(), {"epochs_run": 99})
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before
    assert load_bundle(out).summary["epochs_run"] == 3
    assert [path.name for path in tmp_path.iterdir()] == ["checkpoint"]


def test_load_falls_back_to_previous_copy(tiny_checkpoint, tmp_path):
    # A process killed between the two renames of save_bundle leaves only .NAME.old.
    shutil.copytree(tiny_checkpoint, tmp_path / ".checkpoint.old")
    assert load_bundle(tmp_path / "checkpoint").summary["epochs_run"] == 3


# --------------------------------------------------- user dictionary


def test_checkpoint_keeps_user_dict_segmentation(tiny_corpus, tmp_path):
    import preprocess

    dictionary = tmp_path / "words.txt"
    dictionary.write_bytes(b"\xef\xbb\xbf" + "创新办 3 i\r\n".encode("utf-8"))
    out = tmp_path / "run"
    assert train.main(tiny_args(tiny_corpus, out, "--epochs", "1", "--user-dict", str(dictionary))) == 0
    dictionary.unlink()  # serving must use the copy inside the checkpoint

    bundle = load_bundle(out)
    sentence = "李小福是创新办主任"
    served = bundle.tokenizer().tokenize(sentence)
    assert "创新办" in served
    assert served != preprocess.tokenize(sentence)
    assert bundle.tokenizer_settings["user_dict_sha256"] == hashlib.sha256(
        (out / "user_dict.txt").read_bytes()
    ).hexdigest()
