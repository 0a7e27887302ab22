"""The Gradio app, launched for real on loopback and called through gradio_client."""

import pytest
from gradio_client import Client

import app


@pytest.fixture(scope="module")
def server():
    engine = app.load_engine(app.DEFAULT_CHECKPOINT)
    demo = app.build_demo(engine)
    demo.queue(max_size=app.MAX_QUEUE)
    _, url, _ = demo.launch(server_name="127.0.0.1", server_port=None, prevent_thread_lock=True, quiet=True)
    yield url
    demo.close()


@pytest.fixture(scope="module")
def client(server):
    return Client(server, verbose=False)


def test_app_replies_in_chinese(client):
    reply = client.predict("你好", api_name="/chat")
    assert reply.strip()
    assert any("\u4e00" <= char <= "\u9fff" for char in reply)
    assert "<" not in reply


def test_app_missing_checkpoint_exits_with_message(tmp_path, capsys):
    code = app.main(["--checkpoint", str(tmp_path / "missing")])
    assert code == 1
    message = capsys.readouterr().err
    assert str(tmp_path / "missing") in message
    assert "python train.py" in message
