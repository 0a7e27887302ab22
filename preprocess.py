"""Read dialogue corpora and turn text into tokens and ids.

Formats, chosen by file extension:

    .yml .yaml   chatterbot-corpus YAML: a `conversations` list of turn lists
    .conv        a line `E` starts a dialogue, each `M <text>` line is a turn
    .tsv         one `prompt<TAB>reply` pair per line
    .jsonl       one dialogue per line: {"messages": [{"role", "content"}, ...]}
                 or {"prompt": ..., "response": ...}
    .csv         a header row, then one pair per row (columns set by options)
    .txt         dialogues separated by blank lines, one turn per line

Each turn answers the one before it, so a dialogue of n turns gives n - 1
(prompt, reply) pairs. Blank turns are dropped and split the dialogue, so no
pair is made across them. A line that does not fit its format is skipped,
counted and reported with its file and line number. A file that cannot be
read as a whole (not UTF-8, empty, a YAML syntax error, no dialogues) stops
the run with a `CorpusError` that names the file.

Chinese is segmented by jieba. Latin words, numbers and emoji stay whole, and
whitespace is not a token. `detokenize` puts a space back only between two
Latin tokens, so `我喜欢Python和machine learning` survives the round trip.

Print the statistics of a corpus:

    python preprocess.py [FILE_OR_FOLDER ...]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import glob
import hashlib
import io
import json
import logging
import os
import re
import sys
import unicodedata
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import yaml

log = logging.getLogger(__name__)

PAD, UNK, SEP, END = "<pad>", "<unk>", "<sep>", "<end>"
SPECIAL_TOKENS = (PAD, UNK, SEP, END)
PAD_ID, UNK_ID, SEP_ID, END_ID = range(len(SPECIAL_TOKENS))

SUFFIXES = (".yml", ".yaml", ".conv", ".tsv", ".jsonl", ".csv", ".txt")
MAX_TURN_CHARS = 5000  # longer turns are almost always a broken export
MAX_REPORTED_LINES = 5  # malformed lines printed per file; the rest are counted

# Latin words and numbers, with inner apostrophes, dots and hyphens kept:
# "don't", "3.14", "e-mail", "GPT-4" are one token each.
_LATIN = r"[A-Za-z0-9\u00C0-\u024F]+(?:['’.\-_][A-Za-z0-9\u00C0-\u024F]+)*"
_HAN = r"[\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF\U00020000-\U0003134F]+"
# One emoji with its skin tone, variation selector and zero-width-joiner
# parts, or a pair of regional indicators (a flag).
_EMOJI_BASE = r"[\u2600-\u27BF\u2B00-\u2BFF\U0001F000-\U0001FAFF]"
_EMOJI_TAIL = r"[\uFE0F\U0001F3FB-\U0001F3FF]*"
_EMOJI = (
    rf"[\U0001F1E6-\U0001F1FF]{{2}}"
    rf"|{_EMOJI_BASE}{_EMOJI_TAIL}(?:\u200D{_EMOJI_BASE}{_EMOJI_TAIL})*"
)
_PIECE = re.compile(rf"(?P<latin>{_LATIN})|(?P<han>{_HAN})|(?P<emoji>{_EMOJI})|.", re.S)
_LATIN_CHAR = re.compile(r"[A-Za-z0-9\u00C0-\u024F]")
# Punctuation after which English text keeps a space: "Hello, world".
_SPACED_PUNCTUATION = frozenset(",.!?;:")


class CorpusError(ValueError):
    """A corpus file that cannot be used, with the file named in the message."""


# ---------------------------------------------------------------- tokens


class Tokenizer:
    """Split text into tokens: jieba for Chinese, whole Latin words and emoji.

    `user_dict` is a jieba user dictionary: one `word [frequency] [tag]` per
    line, for names and jargon that must stay whole. Its SHA-256 is part of
    `settings()`, which travels with a checkpoint so that serving segments
    text the way training did.
    """

    def __init__(self, user_dict: str | Path | None = None):
        import jieba

        jieba.setLogLevel(logging.WARNING)
        self.user_dict = str(user_dict) if user_dict else None
        self.user_dict_sha256 = None
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        if user_dict:
            self.user_dict_sha256 = self._load_user_dict(Path(user_dict))

    def _load_user_dict(self, path: Path) -> str:
        data = _read_bytes(path)
        text = _decode(data, path)
        for number, line in enumerate(text.splitlines(), start=1):
            fields = line.split()
            if not fields:
                continue
            frequency = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else None
            tag = fields[-1] if len(fields) > 1 and not fields[-1].isdigit() else None
            self._jieba.add_word(fields[0], frequency, tag)
        return hashlib.sha256(data).hexdigest()

    def settings(self) -> dict:
        """Describe what decides the segmentation, for caches and checkpoints."""
        return {
            "scheme": 1,
            "user_dict": self.user_dict,
            "user_dict_sha256": self.user_dict_sha256,
        }

    def tokenize(self, text: str) -> list[str]:
        tokens = []
        for match in _PIECE.finditer(unicodedata.normalize("NFC", text)):
            piece = match.group()
            if match.lastgroup == "han":
                tokens.extend(self._jieba.lcut(piece, HMM=True))
            elif match.lastgroup in ("latin", "emoji"):
                tokens.append(piece)
            elif not _is_invisible(piece):
                tokens.append(piece)
        return tokens


def _is_invisible(char: str) -> bool:
    """Whitespace, control and format characters (NUL, zero-width space, RLM)."""
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn")


def detokenize(tokens: list[str]) -> str:
    """Join tokens into text, with a space only where English needs one."""
    pieces = []
    for index, token in enumerate(tokens):
        if index and _needs_space(tokens, index):
            pieces.append(" ")
        pieces.append(token)
    return "".join(pieces)


def _needs_space(tokens: list[str], index: int) -> bool:
    previous, token = tokens[index - 1], tokens[index]
    if not _LATIN_CHAR.match(token[0]):
        return False
    if _LATIN_CHAR.match(previous[-1]):
        return True
    return (
        previous in _SPACED_PUNCTUATION
        and index >= 2
        and bool(_LATIN_CHAR.match(tokens[index - 2][-1]))
    )


_default_tokenizer: Tokenizer | None = None


def default_tokenizer() -> Tokenizer:
    """Return the shared tokenizer without a user dictionary, built on first use."""
    global _default_tokenizer
    if _default_tokenizer is None:
        _default_tokenizer = Tokenizer()
    return _default_tokenizer


def tokenize(text: str) -> list[str]:
    return default_tokenizer().tokenize(text)


# ------------------------------------------------------------ vocabulary


class Vocabulary:
    """Map tokens to ids. Ids 0 to 3 are `<pad>`, `<unk>`, `<sep>` and `<end>`."""

    def __init__(self, tokens: list[str]):
        if tuple(tokens[: len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
            raise ValueError(f"a vocabulary must start with {SPECIAL_TOKENS}")
        if len(set(tokens)) != len(tokens):
            raise ValueError("a vocabulary must not list a token twice")
        self.tokens = list(tokens)
        self.ids = {token: index for index, token in enumerate(self.tokens)}

    @classmethod
    def build(cls, counts: Counter, min_count: int = 1, max_size: int | None = None):
        """Keep tokens seen at least `min_count` times, the most frequent first."""
        ranked = sorted(
            (item for item in counts.items() if item[1] >= min_count and item[0] not in SPECIAL_TOKENS),
            key=lambda item: (-item[1], item[0]),
        )
        if max_size is not None:
            ranked = ranked[: max(0, max_size - len(SPECIAL_TOKENS))]
        return cls(list(SPECIAL_TOKENS) + [token for token, _ in ranked])

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def fingerprint(self) -> str:
        """A short hash of the token list, stored with the model that uses it."""
        return hashlib.sha256("\n".join(self.tokens).encode("utf-8")).hexdigest()[:16]

    def encode(self, tokens: list[str]) -> list[int]:
        return [self.ids.get(token, UNK_ID) for token in tokens]

    def decode(self, ids) -> list[str]:
        """Turn ids back into tokens, leaving out the special ones."""
        return [self.tokens[i] for i in ids if i >= len(SPECIAL_TOKENS)]

    def save(self, path: str | Path) -> None:
        payload = {"fingerprint": self.fingerprint, "tokens": self.tokens}
        Path(path).write_text(json.dumps(payload, ensure_ascii=False, indent=0), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "Vocabulary":
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
        vocabulary = cls(payload["tokens"])
        if payload.get("fingerprint") not in (None, vocabulary.fingerprint):
            raise ValueError(f"{path}: the token list does not match its stored fingerprint")
        return vocabulary


def build_sequence(
    prompt_ids: list[int], reply_ids: list[int], max_prompt_tokens: int, max_reply_tokens: int
) -> list[int]:
    """Lay out one training example as `prompt <sep> reply <end>`.

    A long prompt keeps its last tokens, which are nearest to the reply.
    """
    prompt = prompt_ids[-max_prompt_tokens:] if max_prompt_tokens else []
    return prompt + [SEP_ID] + reply_ids[:max_reply_tokens] + [END_ID]


# --------------------------------------------------------------- corpora


@dataclasses.dataclass
class ReaderOptions:
    """Settings for the corpus readers."""

    question_column: str | None = None  # CSV; None means "question", "prompt" or column 1
    answer_column: str | None = None  # CSV; None means "answer", "response" or column 2
    max_turn_chars: int = MAX_TURN_CHARS


@dataclasses.dataclass
class FileDialogues:
    """The dialogues read from one file, and the lines that were skipped."""

    path: Path
    dialogues: list[list[str]]
    skipped_lines: int = 0


def default_corpus_paths() -> list[Path]:
    """Return the Chinese YAML files of the installed chatterbot-corpus package."""
    try:
        import chatterbot_corpus
    except ImportError as error:
        raise CorpusError(
            "the default corpus needs the chatterbot-corpus package: "
            "pip install -r requirements.txt"
        ) from error
    folder = Path(chatterbot_corpus.__file__).parent / "data" / "chinese"
    return sorted(folder.glob("*.yml"))


def find_corpus_files(sources: list[str | Path]) -> list[Path]:
    """Expand files, folders (searched recursively) and glob patterns."""
    files: list[Path] = []
    for source in map(str, sources):
        if any(char in source for char in "*?["):
            matches = [Path(match) for match in sorted(glob.glob(source, recursive=True))]
            if not matches:
                raise CorpusError(f"{source}: the pattern matches no file")
        else:
            matches = [Path(source)]
        for path in matches:
            if path.is_dir():
                found = sorted(p for p in path.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())
                if not found:
                    raise CorpusError(f"{path}: the folder contains no corpus file ({', '.join(SUFFIXES)})")
                files.extend(found)
            elif path.is_file():
                if path.suffix.lower() not in SUFFIXES:
                    raise CorpusError(
                        f"{path}: unknown corpus format {path.suffix!r}; "
                        f"use one of {', '.join(SUFFIXES)}"
                    )
                files.append(path)
            else:
                raise CorpusError(f"{path}: no such file or folder")
    return list(dict.fromkeys(files))


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CorpusError(f"{path}: cannot read the file: {error.strerror}") from error


def _decode(data: bytes, path: Path) -> str:
    """Decode UTF-8 with or without a BOM, and turn CRLF and CR into LF."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CorpusError(
            f"{path}: line {line} is not valid UTF-8 (byte {data[error.start]:#04x} at "
            f"offset {error.start}); convert the file to UTF-8, for example with "
            f"`iconv -f GBK -t UTF-8 {path.name}`"
        ) from error
    return text.replace("\r\n", "\n").replace("\r", "\n")


class _Reader:
    """Collect the dialogues of one file and count its malformed lines."""

    def __init__(self, path: Path, options: ReaderOptions):
        self.path = path
        self.options = options
        self.dialogues: list[list[str]] = []
        self.current: list[str] = []
        self.skipped = 0

    def skip(self, line: int, reason: str) -> None:
        self.skipped += 1
        if self.skipped <= MAX_REPORTED_LINES:
            log.warning("%s:%d: skipped: %s", self.path, line, reason)

    def turn(self, text, line: int) -> None:
        text = "" if text is None else str(text).strip()
        if len(text) > self.options.max_turn_chars:
            raise CorpusError(
                f"{self.path}: line {line} contains a turn of {len(text):,} characters, more "
                f"than the limit of {self.options.max_turn_chars:,}; split the line or "
                f"raise --max-turn-chars"
            )
        if text:
            self.current.append(text)
        else:
            self.end_dialogue()  # a blank turn breaks the chain of answers

    def end_dialogue(self) -> None:
        if len(self.current) >= 2:
            self.dialogues.append(self.current)
        self.current = []

    def dialogue(self, turns, line: int) -> None:
        self.end_dialogue()
        for turn in turns:
            self.turn(turn, line)
        self.end_dialogue()


def _read_yaml(reader: _Reader, text: str) -> None:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise CorpusError(f"{reader.path}: YAML syntax error{where}: {error}") from error
    conversations = document.get("conversations") if isinstance(document, dict) else None
    if not isinstance(conversations, list):
        raise CorpusError(
            f"{reader.path}: no `conversations` list; a chatterbot YAML file needs "
            "`conversations:` followed by lists of turns"
        )
    for index, conversation in enumerate(conversations, start=1):
        if isinstance(conversation, list):
            reader.dialogue(conversation, line=index)
        else:
            reader.skip(index, f"conversation {index} is not a list of turns")


def _read_conv(reader: _Reader, text: str) -> None:
    started = False
    for number, line in enumerate(text.split("\n"), start=1):
        marker = line[:1]
        if marker == "E" and not line[1:].strip():
            reader.end_dialogue()
            started = True
        elif marker == "M" and line[1:2] in ("", " ", "\t"):
            if not started:
                raise CorpusError(
                    f"{reader.path}: line {number} is a turn before any `E` line; "
                    "start each dialogue with a line holding only `E`"
                )
            reader.turn(line[1:], number)
        elif line.strip():
            reader.skip(number, "expected a line `E` or `M <text>`")
    reader.end_dialogue()


def _read_tsv(reader: _Reader, text: str) -> None:
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 2:
            reader.skip(number, f"expected prompt<TAB>reply, found {len(fields)} field(s)")
            continue
        reader.dialogue(fields, number)


def _read_jsonl(reader: _Reader, text: str) -> None:
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            reader.skip(number, f"invalid JSON: {error.msg}")
            continue
        if isinstance(record, dict) and isinstance(record.get("messages"), list):
            messages = record["messages"]
            if all(isinstance(m, dict) and isinstance(m.get("content"), str) for m in messages):
                turns = [m["content"] for m in messages if m.get("role") != "system"]
                reader.dialogue(turns, number)
                continue
        elif isinstance(record, dict) and {"prompt", "response"} <= record.keys():
            reader.dialogue([record["prompt"], record["response"]], number)
            continue
        reader.skip(number, 'expected {"messages": [{"role", "content"}, ...]} or {"prompt", "response"}')


def _read_csv(reader: _Reader, text: str) -> None:
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if not header:
        return
    header = [name.strip() for name in header]
    columns = [
        _pick_column(reader.path, header, reader.options.question_column, ("question", "prompt"), 0),
        _pick_column(reader.path, header, reader.options.answer_column, ("answer", "response", "reply"), 1),
    ]
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            reader.skip(number, f"expected {len(header)} columns, found {len(row)}")
            continue
        reader.dialogue([row[column] for column in columns], number)


def _pick_column(path: Path, header: list[str], name, defaults, position: int) -> int:
    if name is not None:
        if name not in header:
            raise CorpusError(f"{path}: no column {name!r}; the header has {header}")
        return header.index(name)
    lowered = [column.lower() for column in header]
    for candidate in defaults:
        if candidate in lowered:
            return lowered.index(candidate)
    if len(header) < 2:
        raise CorpusError(f"{path}: a CSV corpus needs a question and an answer column")
    return position


def _read_text(reader: _Reader, text: str) -> None:
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            reader.turn(line, number)
        else:
            reader.end_dialogue()
    reader.end_dialogue()


_READERS = {
    ".yml": _read_yaml,
    ".yaml": _read_yaml,
    ".conv": _read_conv,
    ".tsv": _read_tsv,
    ".jsonl": _read_jsonl,
    ".csv": _read_csv,
    ".txt": _read_text,
}


def read_dialogues(path: str | Path, options: ReaderOptions | None = None) -> FileDialogues:
    """Read one corpus file; the extension decides the format."""
    path = Path(path)
    read = _READERS.get(path.suffix.lower())
    if read is None:
        raise CorpusError(f"{path}: unknown corpus format {path.suffix!r}; use one of {', '.join(SUFFIXES)}")
    text = _decode(_read_bytes(path), path)
    if not text.strip():
        raise CorpusError(f"{path}: the file is empty; add dialogues or leave it out of --data")
    reader = _Reader(path, options or ReaderOptions())
    read(reader, text)
    if reader.skipped > MAX_REPORTED_LINES:
        log.warning("%s: %d malformed lines skipped in all", path, reader.skipped)
    if not reader.dialogues:
        raise CorpusError(
            f"{path}: no dialogue of two or more turns found; check that the file "
            f"follows the {path.suffix} format described in `python train.py --help`"
        )
    return FileDialogues(path, reader.dialogues, reader.skipped)


def dialogue_pairs(dialogues: list[list]) -> list[tuple]:
    """Pair each turn with the turn that answers it."""
    return [(turns[i], turns[i + 1]) for turns in dialogues for i in range(len(turns) - 1)]


# ----------------------------------------------- tokenised corpus and cache


@dataclasses.dataclass
class Corpus:
    """Tokenised (prompt, reply) pairs and what they were read from."""

    pairs: list[tuple[list[str], list[str]]]
    files: int
    dialogues: int
    skipped_lines: int = 0
    cached_files: int = 0

    def token_counts(self) -> Counter:
        counts = Counter()
        for dialogue_tokens in self._turns():
            counts.update(dialogue_tokens)
        return counts

    def _turns(self):
        # Count each turn once, although most turns are both a reply and the next prompt.
        seen_prompt = None
        for prompt, reply in self.pairs:
            if prompt is not seen_prompt:
                yield prompt
            yield reply
            seen_prompt = reply

    def statistics(self, vocabulary: Vocabulary | None = None) -> dict:
        counts = self.token_counts()
        total = sum(counts.values())
        stats = {
            "files": self.files,
            "dialogues": self.dialogues,
            "pairs": len(self.pairs),
            "tokens": total,
            "distinct_tokens": len(counts),
            "skipped_lines": self.skipped_lines,
        }
        if vocabulary is not None:
            unknown = sum(n for token, n in counts.items() if token not in vocabulary.ids)
            stats["vocabulary"] = len(vocabulary)
            stats["oov_share"] = unknown / total if total else 0.0
        return stats


def format_statistics(stats: dict) -> str:
    line = (
        f"corpus: {stats['files']} files, {stats['dialogues']:,} dialogues, "
        f"{stats['pairs']:,} pairs, {stats['tokens']:,} tokens, "
        f"{stats['distinct_tokens']:,} distinct"
    )
    if "vocabulary" in stats:
        line += f", vocabulary {stats['vocabulary']:,}, out-of-vocabulary {stats['oov_share']:.2%}"
    if stats.get("skipped_lines"):
        line += f", {stats['skipped_lines']:,} malformed lines skipped"
    return line


PARALLEL_MIN_TURNS = 20_000  # below this, starting worker processes costs more than it saves


def _tokenize_chunk(args) -> list[list[str]]:
    user_dict, texts = args
    global _worker_tokenizer
    if _worker_tokenizer is None or _worker_tokenizer.user_dict != user_dict:
        _worker_tokenizer = Tokenizer(user_dict)
    return [_worker_tokenizer.tokenize(text) for text in texts]


_worker_tokenizer: Tokenizer | None = None


def tokenize_many(
    texts: list[str], tokenizer: Tokenizer, workers: int | None = None, min_texts: int = PARALLEL_MIN_TURNS
) -> list[list[str]]:
    """Tokenize many texts, on all cores when there are at least `min_texts`."""
    workers = workers or os.cpu_count() or 1
    if workers < 2 or len(texts) < min_texts:
        return [tokenizer.tokenize(text) for text in texts]
    size = -(-len(texts) // (workers * 8))
    chunks = [(tokenizer.user_dict, texts[i : i + size]) for i in range(0, len(texts), size)]
    # "spawn" rather than fork, because forking a process that has started
    # TensorFlow's threads can deadlock the child.
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        return [tokens for chunk in pool.map(_tokenize_chunk, chunks) for tokens in chunk]


def _cache_key(data: bytes, path: Path, tokenizer: Tokenizer, options: ReaderOptions) -> str:
    digest = hashlib.sha256(data)
    settings = {
        "format": path.suffix.lower(),
        "tokenizer": tokenizer.settings(),
        "reader": dataclasses.asdict(options),
    }
    digest.update(json.dumps(settings, sort_keys=True).encode("utf-8"))
    return digest.hexdigest()


def load_corpus(
    sources: list[str | Path] | None = None,
    tokenizer: Tokenizer | None = None,
    options: ReaderOptions | None = None,
    cache_dir: str | Path | None = None,
) -> Corpus:
    """Read and tokenise corpus files; `None` means the default corpus.

    With `cache_dir`, each file's tokens are cached under a key made of the
    file's bytes and the tokenizer and reader settings, so an unchanged file
    is not segmented again and a changed one is.
    """
    tokenizer = tokenizer or default_tokenizer()
    options = options or ReaderOptions()
    files = find_corpus_files(sources) if sources else default_corpus_paths()
    if not files:
        raise CorpusError("no corpus file found")
    cache = Path(cache_dir) if cache_dir else None
    pairs, dialogues, skipped, cached = [], 0, 0, 0
    pending = []  # files to segment: (path, key, FileDialogues)
    results: dict[Path, list[list[list[str]]]] = {}
    for path in files:
        key = _cache_key(_read_bytes(path), path, tokenizer, options)
        entry = cache / f"{key}.json" if cache else None
        if entry is not None and entry.is_file():
            stored = json.loads(entry.read_text(encoding="utf-8"))
            results[path] = stored["dialogues"]
            skipped += stored["skipped_lines"]
            cached += 1
            continue
        read = read_dialogues(path, options)
        skipped += read.skipped_lines
        pending.append((path, entry, read))
    texts = [turn for _, _, read in pending for dialogue in read.dialogues for turn in dialogue]
    tokens = iter(tokenize_many(texts, tokenizer))
    for path, entry, read in pending:
        tokenized = [[next(tokens) for _ in dialogue] for dialogue in read.dialogues]
        results[path] = tokenized
        if entry is not None:
            _write_json_atomic(entry, {"dialogues": tokenized, "skipped_lines": read.skipped_lines})
    for path in files:
        file_dialogues = _split_at_empty_turns(results[path])
        dialogues += len(file_dialogues)
        pairs.extend(dialogue_pairs(file_dialogues))
    if not pairs:
        names = ", ".join(str(path) for path in files[:5]) + (" ..." if len(files) > 5 else "")
        raise CorpusError(
            f"no (prompt, reply) pair left in {names}: every turn is blank or contains only "
            "invisible characters after tokenising; add dialogues with visible text"
        )
    return Corpus(pairs, files=len(files), dialogues=dialogues, skipped_lines=skipped, cached_files=cached)


def _split_at_empty_turns(dialogues: list[list[list[str]]]) -> list[list[list[str]]]:
    """Split dialogues where a turn has no token left (only spaces or control characters)."""
    result = []
    for dialogue in dialogues:
        run = []
        for turn in dialogue + [[]]:
            if turn:
                run.append(turn)
                continue
            if len(run) >= 2:
                result.append(run)
            run = []
    return result


def _write_json_atomic(path: Path, payload) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    os.replace(temporary, path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sources", nargs="*", help="corpus files, folders or glob patterns (default: chatterbot-corpus Chinese)")
    parser.add_argument("--min-count", type=int, default=1, help="keep tokens seen at least this many times")
    parser.add_argument("--vocab-size", type=int, default=None, help="maximum vocabulary size, special tokens included")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        corpus = load_corpus(args.sources or None)
    except CorpusError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    vocabulary = Vocabulary.build(corpus.token_counts(), args.min_count, args.vocab_size)
    print(format_statistics(corpus.statistics(vocabulary)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
