"""Tokens, vocabulary and corpus readers."""

import pytest

import preprocess
from preprocess import CorpusError, Vocabulary, detokenize, read_dialogues, tokenize

ROUND_TRIPS = [
    ("chinese", "我喜欢机器学习"),
    ("english", "I love machine learning"),
    ("mixed", "我喜欢Python和machine learning"),
    ("numbers", "我有3.14个苹果和2024年的书"),
    ("emoji", "今天很开心😀👍🏽"),
    ("zwj emoji", "我们是👨‍👩‍👧一家人"),
    ("flag", "🇨🇳中国"),
    ("traditional", "這是繁體中文的句子"),
    ("punctuation", "你好，世界！"),
    ("english punctuation", "Hello, world! How are you?"),
    ("contraction", "don't stop"),
]


@pytest.mark.parametrize("name,text", ROUND_TRIPS, ids=[case[0] for case in ROUND_TRIPS])
def test_tokenize_round_trip(name, text):
    assert detokenize(tokenize(text)) == text


@pytest.mark.parametrize(
    "text,expected",
    [
        ("我喜欢Python", ["我", "喜欢", "Python"]),
        ("machine learning", ["machine", "learning"]),
        ("3.14和2024", ["3.14", "和", "2024"]),
        ("好😀", ["好", "😀"]),
        ("  \t\n", []),
        ("a\u200bb\x00c", ["a", "b", "c"]),
    ],
)
def test_tokenize_keeps_words_whole(text, expected):
    assert tokenize(text) == expected


def test_tokenizer_does_not_emit_whitespace():
    assert all(token.strip() for token in tokenize("你 好  hello\u3000world"))


def test_vocabulary_build_and_special_ids():
    counts = preprocess.Counter({"你": 5, "好": 3, "罕见": 1})
    vocabulary = Vocabulary.build(counts, min_count=2)
    assert vocabulary.tokens[:4] == ["<pad>", "<unk>", "<sep>", "<end>"]
    assert vocabulary.encode(["你", "罕见"]) == [4, preprocess.UNK_ID]
    assert vocabulary.decode([preprocess.SEP_ID, 4, 5, preprocess.END_ID]) == ["你", "好"]


def test_vocabulary_max_size():
    counts = preprocess.Counter({f"词{i}": 100 - i for i in range(50)})
    assert len(Vocabulary.build(counts, max_size=10)) == 10


def test_vocabulary_save_load(tmp_path):
    vocabulary = Vocabulary.build(preprocess.Counter({"你好": 2, "世界": 1, "😀": 1}))
    path = tmp_path / "vocab.json"
    vocabulary.save(path)
    assert "你好" in path.read_text(encoding="utf-8")  # stored as UTF-8, not \u escapes
    loaded = Vocabulary.load(path)
    assert loaded.tokens == vocabulary.tokens
    assert loaded.fingerprint == vocabulary.fingerprint


def test_build_sequence_keeps_last_prompt_tokens():
    sequence = preprocess.build_sequence([10, 11, 12, 13], [20, 21], max_prompt_tokens=2, max_reply_tokens=5)
    assert sequence == [12, 13, preprocess.SEP_ID, 20, 21, preprocess.END_ID]


# ------------------------------------------------------------ readers

YAML = """categories:
- test
conversations:
- - 你好
  - 你好呀
  - 最近怎么样
- - 再见
  - 拜拜
"""


def test_read_yaml(tmp_path):
    path = tmp_path / "greetings.yml"
    path.write_text(YAML, encoding="utf-8")
    dialogues = read_dialogues(path).dialogues
    assert dialogues == [["你好", "你好呀", "最近怎么样"], ["再见", "拜拜"]]
    assert preprocess.dialogue_pairs(dialogues) == [("你好", "你好呀"), ("你好呀", "最近怎么样"), ("再见", "拜拜")]


def test_read_yaml_without_conversations(tmp_path):
    path = tmp_path / "broken.yml"
    path.write_text("categories:\n- test\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="broken.yml.*conversations"):
        read_dialogues(path)


def test_read_yaml_syntax_error(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("conversations:\n- - 你好\n  - [unclosed\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="bad.yaml: YAML syntax error"):
        read_dialogues(path)


CONV = "E\nM 你好\nM 你好呀\nM   \nM 在吗\nM 在的\nE\nM 再见\nM 拜拜\n"


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["no-bom", "bom"])
@pytest.mark.parametrize("newline", [b"\n", b"\r\n"], ids=["lf", "crlf"])
def test_read_conv_bom_and_line_endings(tmp_path, bom, newline):
    path = tmp_path / "dialogue.conv"
    path.write_bytes(bom + CONV.encode("utf-8").replace(b"\n", newline))
    # The blank turn splits the first dialogue, so no pair spans it.
    assert read_dialogues(path).dialogues == [["你好", "你好呀"], ["在吗", "在的"], ["再见", "拜拜"]]


def test_read_conv_turn_before_e(tmp_path):
    path = tmp_path / "early.conv"
    path.write_text("M 你好\nE\nM 你好\nM 嗨\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"early.conv: line 1 .*before any `E`"):
        read_dialogues(path)


def test_read_tsv(tmp_path):
    path = tmp_path / "faq.tsv"
    path.write_bytes("你好\t你好呀\r\n\r\nno tab here\r\n怎么退货\t请联系客服\r\n".encode("utf-8"))
    result = read_dialogues(path)
    assert result.dialogues == [["你好", "你好呀"], ["怎么退货", "请联系客服"]]
    assert result.skipped_lines == 1


def test_read_not_utf8_names_file_and_line(tmp_path):
    path = tmp_path / "gbk.tsv"
    path.write_bytes("你好\t嗨\n".encode("utf-8") + "再见\t拜拜\n".encode("gbk"))
    with pytest.raises(CorpusError, match=r"gbk.tsv: line 2 is not valid UTF-8"):
        read_dialogues(path)


def test_read_empty_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("  \n", encoding="utf-8")
    with pytest.raises(CorpusError, match="empty.txt: the file is empty"):
        read_dialogues(path)


def test_load_corpus_statistics(tmp_path):
    (tmp_path / "a.tsv").write_text("你好\t你好呀\n", encoding="utf-8")
    (tmp_path / "b.yml").write_text(YAML, encoding="utf-8")
    corpus = preprocess.load_corpus([tmp_path])
    stats = corpus.statistics(Vocabulary.build(corpus.token_counts(), min_count=2))
    assert stats["files"] == 2
    assert stats["dialogues"] == 3
    assert stats["pairs"] == 4
    assert 0 < stats["oov_share"] < 1


def test_default_corpus_is_chatterbot_chinese():
    corpus = preprocess.load_corpus(None)
    assert corpus.files >= 10
    assert len(corpus.pairs) > 500
