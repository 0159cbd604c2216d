"""The bytes of the default data set: real enough for transformers and datasets to load.

Every builder is deterministic (same bytes every run with the same library versions) and
cheap; `default_repos` calls them, nothing here runs at import.
"""

import io
import json
import random
import struct

VOCAB = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
    "hello", "world", "the", "a", "of", "and", "to", "in", "is", "mirror", "hub",
    "##s", "##ing", "##ed", "!", ",", ".", "?",
]  # fmt: skip
SPECIAL_TOKENS = {
    "pad_token": "[PAD]",
    "unk_token": "[UNK]",
    "cls_token": "[CLS]",
    "sep_token": "[SEP]",
    "mask_token": "[MASK]",
}
HIDDEN_SIZE = 32
CSV_WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]


def as_json(value: object) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode()


def bert_config(num_hidden_layers: int = 2) -> bytes:
    """A small but complete BERT config; older commits use another layer count."""
    return as_json(
        {
            "architectures": ["BertModel"],
            "attention_probs_dropout_prob": 0.1,
            "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1,
            "hidden_size": HIDDEN_SIZE,
            "initializer_range": 0.02,
            "intermediate_size": 37,
            "layer_norm_eps": 1e-12,
            "max_position_embeddings": 512,
            "model_type": "bert",
            "num_attention_heads": 2,
            "num_hidden_layers": num_hidden_layers,
            "pad_token_id": 0,
            "type_vocab_size": 2,
            "vocab_size": len(VOCAB),
        }
    )


def vocab_txt() -> bytes:
    return ("\n".join(VOCAB) + "\n").encode()


def tokenizer_json() -> bytes:
    """A real BERT WordPiece fast tokenizer over VOCAB, built by the tokenizers library."""
    from tokenizers.implementations import BertWordPieceTokenizer

    vocab = {token: index for index, token in enumerate(VOCAB)}
    tokenizer = BertWordPieceTokenizer(vocab, lowercase=True)
    return tokenizer.to_str(pretty=True).encode()


def tokenizer_config() -> bytes:
    return as_json(
        {
            "tokenizer_class": "BertTokenizer",
            "do_lower_case": True,
            "model_max_length": 512,
            **SPECIAL_TOKENS,
        }
    )


def safetensors(seed: int, rows: int = len(VOCAB)) -> bytes:
    """A valid safetensors file holding one F32 embedding matrix of seeded values."""
    rng = random.Random(seed)
    values = [rng.uniform(-0.1, 0.1) for _ in range(rows * HIDDEN_SIZE)]
    data = struct.pack(f"<{len(values)}f", *values)
    header = {
        "__metadata__": {"format": "pt"},
        "embeddings.word_embeddings.weight": {
            "dtype": "F32",
            "shape": [rows, HIDDEN_SIZE],
            "data_offsets": [0, len(data)],
        },
    }
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def model_card(front_matter: str, title: str) -> bytes:
    return f"---\n{front_matter}---\n\n# {title}\n\nA tiny repo served by the fake Hub.\n".encode()


def csv_rows(count: int, offset: int = 0) -> bytes:
    """A header and `count` rows of (text, label)."""
    lines = ["text,label"]
    for index in range(offset, offset + count):
        lines.append(f"{CSV_WORDS[index % len(CSV_WORDS)]} {index},{index % 2}")
    return ("\n".join(lines) + "\n").encode()


def parquet_table(rows: int, compression: str = "snappy") -> bytes:
    """A parquet file with columns x (int64) and s (string), written by pyarrow."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"x": list(range(rows)), "s": [f"s{i}" for i in range(rows)]})
    sink = io.BytesIO()
    pq.write_table(table, sink, compression=compression)
    return sink.getvalue()
