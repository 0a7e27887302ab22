"""Shared fixtures: a tiny corpus and a tiny model trained on it in seconds."""

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TINY_PAIRS = [
    ("你好", "你好，很高兴见到你"),
    ("你是谁", "我是一个聊天机器人"),
    ("你喜欢什么", "我喜欢Python和machine learning"),
    ("今天天气怎么样", "今天天气很好"),
    ("再见", "再见，下次聊"),
    ("what is your name", "my name is LSTM"),
    ("你会做什么", "我会陪你聊天"),
    ("谢谢", "不客气"),
]


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    path = folder / "tiny.tsv"
    path.write_text("".join(f"{p}\t{r}\n" for p, r in TINY_PAIRS), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, tiny_corpus) -> Path:
    """Train a small model for a few epochs; enough to exercise every code path."""
    import train

    out = tmp_path_factory.mktemp("checkpoints") / "tiny"
    code = train.main(
        [
            "--data", str(tiny_corpus), "--out", str(out), "--epochs", "3",
            "--embedding-dim", "16", "--units", "32", "--layers", "2",
            "--batch-size", "4", "--validation-split", "0", "--cache-dir", "",
        ]
    )
    assert code == 0
    return out


@pytest.fixture(scope="session")
def tiny_chatbot(tiny_checkpoint):
    from model import Chatbot

    return Chatbot.load(tiny_checkpoint)


@pytest.fixture(scope="session")
def default_chatbot():
    """The committed default checkpoint."""
    from model import Chatbot

    return Chatbot.load()
