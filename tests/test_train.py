"""Training end to end on a tiny corpus."""

import json

import train


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
