"""The default data set: a handful of tiny repos covering what the real clients touch.

`default_repos()` builds fresh `Repo` objects every call (tests may move their branches);
the bytes and commit shas are the same on every run.
"""

from tests.fakehub import content
from tests.fakehub.blobs import Blob
from tests.fakehub.repos import GITATTRIBUTES, Repo, make_blob

TINY_BERT = "acme/tiny-bert"
MANY_FILES = "acme/many-files"
GATED_MODEL = "acme/gated-model"
PRIVATE_MODEL = "acme/private-model"
TINY_CSV = "acme/tiny-csv"
TINY_PARQUET = "acme/tiny-parquet"
TINY_SPACE = "acme/tiny-space"

TINY_BERT_LAYERS = 2  # config.json on main
TINY_BERT_OLD_LAYERS = 1  # config.json at tag v1.0 (the older commit)
TINY_BERT_VOCAB_SIZE = len(content.VOCAB)
PR_ONLY_FILE = "pr-only.txt"  # exists only at refs/pr/1 of acme/tiny-bert
TINY_CSV_TRAIN_ROWS = 10
TINY_CSV_TEST_ROWS = 4
TINY_PARQUET_ROWS = 100
TINY_PARQUET_FILE = "data/train-00000-of-00001.parquet"
TINY_PARQUET_CONVERTED_FILE = "default/train/0000.parquet"  # on refs/convert/parquet
MANY_FILES_FOLDERS = ("data/a", "data/b", "data/c", "extra/deep/d")
MANY_FILES_PER_FOLDER = 280
MANY_FILES_COUNT = len(MANY_FILES_FOLDERS) * MANY_FILES_PER_FOLDER + 2  # + README, .gitattributes

BERT_CARD = "library_name: transformers\nlicense: mit\npipeline_tag: fill-mask\ntags:\n- bert\n"
BERT_CARD_DATA = {
    "library_name": "transformers",
    "license": "mit",
    "pipeline_tag": "fill-mask",
    "tags": ["bert"],
}
CSV_CARD = """configs:
- config_name: default
  data_files:
  - split: train
    path: data/train.csv
  - split: test
    path: data/test.csv
"""
CSV_CARD_DATA = {
    "configs": [
        {
            "config_name": "default",
            "data_files": [
                {"split": "train", "path": "data/train.csv"},
                {"split": "test", "path": "data/test.csv"},
            ],
        }
    ]
}
SPACE_CARD = "title: Tiny Space\nsdk: gradio\napp_file: app.py\n"
SPACE_CARD_DATA = {"title": "Tiny Space", "sdk": "gradio", "app_file": "app.py"}


def default_repos() -> list[Repo]:
    return [
        tiny_bert(),
        many_files(),
        _weights_only(GATED_MODEL, seed=1, gated="manual"),
        _weights_only(PRIVATE_MODEL, seed=2, private=True),
        tiny_csv(),
        tiny_parquet(),
        tiny_space(),
    ]


def blobs(files: dict[str, bytes]) -> dict[str, Blob]:
    return {path: make_blob(path, data) for path, data in files.items()}


def tiny_bert() -> Repo:
    """main has 2 commits (tag v1.0 on the older one) and refs/pr/1 adds a file."""
    repo = Repo(
        "model",
        TINY_BERT,
        card_data=BERT_CARD_DATA,
        library_name="transformers",
        pipeline_tag="fill-mask",
        tags=["transformers", "safetensors", "bert", "fill-mask"],
    )
    files = {
        ".gitattributes": GITATTRIBUTES.encode(),
        "README.md": content.model_card(BERT_CARD, TINY_BERT),
        "config.json": content.bert_config(TINY_BERT_OLD_LAYERS),
        "vocab.txt": content.vocab_txt(),
        "tokenizer.json": content.tokenizer_json(),
        "tokenizer_config.json": content.tokenizer_config(),
        "model.safetensors": content.safetensors(seed=1),
        "nested/dir/file.txt": b"a file two folders down\n",
    }
    first = repo.add_commit(None, blobs(files), "Initial commit")
    update = {"config.json": content.bert_config(TINY_BERT_LAYERS)}
    second = repo.add_commit(first.sha, blobs(update), "Use two hidden layers")
    pull = repo.add_commit(second.sha, blobs({PR_ONLY_FILE: b"only on refs/pr/1\n"}), "Add file")
    repo.branches["main"] = second.sha
    repo.git_tags["v1.0"] = first.sha
    repo.pull_requests[1] = pull.sha
    return repo


def many_files() -> Repo:
    """More files than one tree page holds (1000), spread over nested folders."""
    repo = Repo("model", MANY_FILES)
    files = {".gitattributes": GITATTRIBUTES.encode(), "README.md": b"# many files\n"}
    for folder in MANY_FILES_FOLDERS:
        for index in range(MANY_FILES_PER_FOLDER):
            files[f"{folder}/file-{index:04d}.txt"] = f"{folder} file {index}\n".encode()
    repo.branches["main"] = repo.add_commit(None, blobs(files), "Add many files").sha
    return repo


def _weights_only(repo_id: str, seed: int, **flags: object) -> Repo:
    """Gated and private repos: a config and an LFS weight file (seed 1 = tiny-bert's)."""
    repo = Repo("model", repo_id, library_name="transformers", tags=["transformers"], **flags)
    files = {
        ".gitattributes": GITATTRIBUTES.encode(),
        "config.json": content.bert_config(TINY_BERT_LAYERS),
        "model.safetensors": content.safetensors(seed=seed),
    }
    repo.branches["main"] = repo.add_commit(None, blobs(files), "Initial commit").sha
    return repo


def tiny_csv() -> Repo:
    repo = Repo("dataset", TINY_CSV, card_data=CSV_CARD_DATA, tags=["format:csv"])
    files = {
        ".gitattributes": GITATTRIBUTES.encode(),
        "README.md": content.model_card(CSV_CARD, TINY_CSV),
        "data/train.csv": content.csv_rows(TINY_CSV_TRAIN_ROWS),
        "data/test.csv": content.csv_rows(TINY_CSV_TEST_ROWS, offset=TINY_CSV_TRAIN_ROWS),
    }
    repo.branches["main"] = repo.add_commit(None, blobs(files), "Add csv data").sha
    return repo


def tiny_parquet() -> Repo:
    """main holds one LFS parquet file; refs/convert/parquet holds the Hub-style export."""
    repo = Repo("dataset", TINY_PARQUET, card_data={"license": "mit"}, tags=["format:parquet"])
    files = {
        ".gitattributes": GITATTRIBUTES.encode(),
        "README.md": content.model_card("license: mit\n", TINY_PARQUET),
        TINY_PARQUET_FILE: content.parquet_table(TINY_PARQUET_ROWS),
    }
    main = repo.add_commit(None, blobs(files), "Add parquet data")
    export = {TINY_PARQUET_FILE: None, "README.md": None}
    export[TINY_PARQUET_CONVERTED_FILE] = make_blob(
        TINY_PARQUET_CONVERTED_FILE, content.parquet_table(TINY_PARQUET_ROWS, compression="none")
    )
    repo.branches["main"] = main.sha
    repo.converts["parquet"] = repo.add_commit(main.sha, export, "Update parquet files").sha
    return repo


def tiny_space() -> Repo:
    repo = Repo("space", TINY_SPACE, card_data=SPACE_CARD_DATA, extra_info={"sdk": "gradio"})
    files = {
        "README.md": content.model_card(SPACE_CARD, TINY_SPACE),
        "app.py": b'import gradio as gr\n\ngr.Interface(lambda x: x, "text", "text").launch()\n',
    }
    repo.branches["main"] = repo.add_commit(None, blobs(files), "Add app").sha
    return repo
