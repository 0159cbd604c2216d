"""transformers `from_pretrained` through the mirror (no torch here: config and tokenizer).

transformers pins the commit with `GET /api/models/{repo}`, then fetches files at that sha,
probes optional files (404 EntryNotFound is normal) and lists `additional_chat_templates`.
"""

from __future__ import annotations

import json

import pytest
from tokenizers import Tokenizer

from tests.support.clients import MODEL, TINY_BERT, run_client

pytestmark = pytest.mark.timeout(120)


def test_autoconfig_from_pretrained_reads_the_hub_config(endpoint, home, fakehub):
    """AutoConfig picks the BERT class and reads the values of main's config.json."""
    expected = json.loads(fakehub.file_bytes(MODEL, TINY_BERT, "main", "config.json"))
    code = f"""
    from transformers import AutoConfig
    config = AutoConfig.from_pretrained({TINY_BERT!r})
    emit({{"class": type(config).__name__, "model_type": config.model_type,
           "hidden_size": config.hidden_size, "vocab_size": config.vocab_size}})
    """
    result = run_client(code, endpoint, home)

    assert result == {
        "class": "BertConfig",
        "model_type": expected["model_type"],
        "hidden_size": expected["hidden_size"],
        "vocab_size": expected["vocab_size"],
    }


def test_autotokenizer_from_pretrained_tokenizes_hello_world(endpoint, home, fakehub):
    """The fast tokenizer built from the mirror's files encodes as the hub's tokenizer.json."""
    truth = Tokenizer.from_str(
        fakehub.file_bytes(MODEL, TINY_BERT, "main", "tokenizer.json").decode()
    )
    expected = truth.encode("hello world")
    code = f"""
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained({TINY_BERT!r})
    ids = tok("hello world")["input_ids"]
    emit({{"ids": ids, "tokens": tok.convert_ids_to_tokens(ids), "fast": tok.is_fast}})
    """
    result = run_client(code, endpoint, home)

    assert result["fast"] is True
    assert result["ids"] == expected.ids
    assert result["tokens"] == expected.tokens
    assert "hello" in result["tokens"] and "world" in result["tokens"]


def test_second_from_pretrained_in_warm_cache_still_works(endpoint, new_home, fakehub):
    """A second process (trace `tf_twice`) relies on the pinned sha and cached .no_exist."""
    code = f"""
    from transformers import AutoConfig, AutoTokenizer
    config = AutoConfig.from_pretrained({TINY_BERT!r})
    tok = AutoTokenizer.from_pretrained({TINY_BERT!r})
    emit({{"hidden_size": config.hidden_size, "ids": tok("hello world")["input_ids"]}})
    """
    home = new_home()
    first = run_client(code, endpoint, home)
    second = run_client(code, endpoint, home)

    assert first == second
    expected = json.loads(fakehub.file_bytes(MODEL, TINY_BERT, "main", "config.json"))
    assert second["hidden_size"] == expected["hidden_size"]
