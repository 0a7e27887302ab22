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


# ------------------------------------------- formats and malformed lines


def test_read_jsonl_both_shapes_and_malformed(tmp_path, caplog):
    path = tmp_path / "chat.jsonl"
    lines = [
        '{"messages": [{"role": "system", "content": "忽略"}, {"role": "user", "content": "你好"},'
        ' {"role": "assistant", "content": "你好呀"}, {"role": "user", "content": "在吗"}]}',
        '{"prompt": "怎么退货", "response": "请联系客服"}',
        "{not json",
        '{"question": "wrong keys"}',
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    result = read_dialogues(path)
    assert result.dialogues == [["你好", "你好呀", "在吗"], ["怎么退货", "请联系客服"]]
    assert result.skipped_lines == 2
    assert "chat.jsonl:3: skipped: invalid JSON" in caplog.text
    assert "chat.jsonl:4: skipped: expected" in caplog.text


def test_read_csv_chosen_columns(tmp_path, caplog):
    path = tmp_path / "faq.csv"
    path.write_text(
        'id,答案,问题\n1,"你好呀, 朋友",你好\n2,only two\n3,请联系客服,怎么退货\n', encoding="utf-8"
    )
    options = preprocess.ReaderOptions(question_column="问题", answer_column="答案")
    result = read_dialogues(path, options)
    assert result.dialogues == [["你好", "你好呀, 朋友"], ["怎么退货", "请联系客服"]]
    assert result.skipped_lines == 1
    assert "faq.csv:3: skipped: expected 3 columns, found 2" in caplog.text


def test_read_csv_default_columns(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text("Prompt,Response\nhello,hi there\n", encoding="utf-8")
    assert read_dialogues(path).dialogues == [["hello", "hi there"]]


def test_read_csv_unknown_column(tmp_path):
    path = tmp_path / "faq.csv"
    path.write_text("q,a\n你好,嗨\n", encoding="utf-8")
    options = preprocess.ReaderOptions(question_column="question")
    with pytest.raises(CorpusError, match=r"faq.csv: no column 'question'; the header has \['q', 'a'\]"):
        read_dialogues(path, options)


def test_read_text_blank_line_dialogues(tmp_path):
    path = tmp_path / "dialogues.txt"
    path.write_text("你好\n你好呀\n最近怎么样\n\n\nhello\nhi 👋\n\nlonely turn\n", encoding="utf-8")
    assert read_dialogues(path).dialogues == [["你好", "你好呀", "最近怎么样"], ["hello", "hi 👋"]]


def test_read_yaml_skips_non_list_conversation(tmp_path, caplog):
    path = tmp_path / "mixed.yml"
    path.write_text("conversations:\n- just a string\n- - 你好\n  - 嗨\n", encoding="utf-8")
    result = read_dialogues(path)
    assert result.dialogues == [["你好", "嗨"]]
    assert result.skipped_lines == 1
    assert "mixed.yml:1: skipped: conversation 1 is not a list" in caplog.text


def test_read_conv_skips_malformed_line(tmp_path, caplog):
    path = tmp_path / "odd.conv"
    path.write_text("E\nM 你好\nX stray line\nM 嗨\n", encoding="utf-8")
    result = read_dialogues(path)
    assert result.dialogues == [["你好", "嗨"]]
    assert result.skipped_lines == 1
    assert "odd.conv:3: skipped: expected a line `E` or `M <text>`" in caplog.text


def test_read_counts_beyond_reported_lines(tmp_path, caplog):
    path = tmp_path / "noisy.tsv"
    path.write_text("你好\t嗨\n" + "no tab\n" * 8, encoding="utf-8")
    result = read_dialogues(path)
    assert result.skipped_lines == 8
    assert caplog.text.count("skipped: expected prompt<TAB>reply") == preprocess.MAX_REPORTED_LINES
    assert "noisy.tsv: 8 malformed lines skipped in all" in caplog.text


def test_read_long_line_names_file_and_line(tmp_path):
    path = tmp_path / "long.tsv"
    path.write_text("你好\t嗨\n你好\t" + "长" * 6000 + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"long.tsv: line 2 contains a turn of 6,000 characters.*--max-turn-chars"):
        read_dialogues(path)


def test_read_file_without_dialogue(tmp_path):
    path = tmp_path / "single.txt"
    path.write_text("one turn\n\nanother lonely turn\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"single.txt: no dialogue of two or more turns"):
        read_dialogues(path)


def test_load_corpus_mixed_formats_and_glob(tmp_path):
    (tmp_path / "a.tsv").write_text("你好\t你好呀\n", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text('{"prompt": "谢谢", "response": "不客气"}\n', encoding="utf-8")
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "c.conv").write_text("E\nM 再见\nM 拜拜\n", encoding="utf-8")
    (folder / "d.txt").write_text("hello\nhi\n", encoding="utf-8")
    (folder / "notes.md").write_text("not a corpus\n", encoding="utf-8")
    corpus = preprocess.load_corpus([str(tmp_path / "*.tsv"), tmp_path / "b.jsonl", folder])
    assert corpus.files == 4
    assert sorted(detokenize(prompt) for prompt, _ in corpus.pairs) == ["hello", "你好", "再见", "谢谢"]


def test_load_corpus_that_ends_up_empty(tmp_path):
    path = tmp_path / "invisible.txt"
    path.write_text("\u200b\n\u200b\x00\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"invisible.txt"):
        preprocess.load_corpus([path])


# ------------------------------------------------------------- cache


def test_cache_reads_unchanged_file_and_resegments_changed_one(tmp_path):
    cache = tmp_path / "cache"
    first, second = tmp_path / "a.tsv", tmp_path / "b.tsv"
    first.write_text("你好\t你好呀\n", encoding="utf-8")
    second.write_text("谢谢\t不客气\n", encoding="utf-8")
    cold = preprocess.load_corpus([first, second], cache_dir=cache)
    assert cold.cached_files == 0

    warm = preprocess.load_corpus([first, second], cache_dir=cache)
    assert warm.cached_files == 2
    assert warm.pairs == cold.pairs

    second.write_text("谢谢\t不用谢\n", encoding="utf-8")
    changed = preprocess.load_corpus([first, second], cache_dir=cache)
    assert changed.cached_files == 1
    assert changed.pairs[1] == (["谢谢"], ["不用谢"])


def test_cache_key_follows_user_dictionary(tmp_path):
    cache = tmp_path / "cache"
    corpus = tmp_path / "a.tsv"
    corpus.write_text("你好\t创新办主任\n", encoding="utf-8")
    preprocess.load_corpus([corpus], cache_dir=cache)
    dictionary = tmp_path / "words.txt"
    dictionary.write_text("创新办 3 i\n", encoding="utf-8")
    with_dict = preprocess.load_corpus([corpus], preprocess.Tokenizer(dictionary), cache_dir=cache)
    assert with_dict.cached_files == 0
    assert "创新办" in with_dict.pairs[0][1]


def test_tokenize_many_workers_match_one_process():
    texts = ["我喜欢机器学习", "hello world", "今天天气很好😀"] * 20
    tokenizer = preprocess.default_tokenizer()
    expected = [tokenizer.tokenize(text) for text in texts]
    parallel = preprocess.tokenize_many(texts, tokenizer, workers=2, min_texts=1)
    assert parallel == expected


# ------------------------------------------------------ user dictionary

USER_DICT_SENTENCE = "李小福是创新办主任"


def test_user_dict_changes_segmentation(tmp_path):
    dictionary = tmp_path / "words.txt"
    dictionary.write_bytes(b"\xef\xbb\xbf" + "创新办 3 i\r\n\r\n李小福 2 nr\r\n".encode("utf-8"))
    plain = tokenize(USER_DICT_SENTENCE)
    custom = preprocess.Tokenizer(dictionary)
    assert "创新办" not in plain
    assert "创新办" in custom.tokenize(USER_DICT_SENTENCE)
    assert "李小福" in custom.tokenize(USER_DICT_SENTENCE)
    assert custom.settings()["user_dict_sha256"] is not None
