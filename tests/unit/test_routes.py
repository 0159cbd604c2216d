import pytest

from hubmirror.errors import InvalidInput, NoSuchRoute
from hubmirror.hub.routes import (
    Housekeeping,
    RepoApi,
    Resolve,
    parse_route,
    resolve_path,
    split_raw_path,
)
from hubmirror.types import RepoType


def route(raw: str, prefix: str = ""):
    return parse_route(split_raw_path(raw, prefix))


def test_model_resolve_splits_repo_revision_and_path():
    r = route("/acme/tiny-bert/resolve/main/nested/dir/file.txt")
    assert isinstance(r, Resolve)
    assert (r.repo.repo_type, r.repo.name) == (RepoType.MODEL, "acme/tiny-bert")
    assert (r.revision.value, r.path.value) == ("main", "nested/dir/file.txt")


def test_encoded_pr_revision_is_one_segment():
    r = route("/datasets/acme/x/resolve/refs%2Fpr%2F1/data/train.csv")
    assert r.repo.repo_type is RepoType.DATASET
    assert (r.revision.value, r.path.value) == ("refs/pr/1", "data/train.csv")


def test_unencoded_pr_revision_spans_three_segments():
    r = route("/acme/x/resolve/refs/pr/1/pr-only.txt")
    assert (r.revision.value, r.path.value) == ("refs/pr/1", "pr-only.txt")


def test_percent_encoded_file_names_are_decoded_per_segment():
    r = route("/acme/x/resolve/main/a%20b/c%2Bd.txt")
    assert r.path.value == "a b/c+d.txt"


def test_double_slashes_from_trailing_slash_endpoints_collapse():
    r = route("//api/datasets/acme/tiny-csv/revision/main")
    assert isinstance(r, RepoApi) and r.action == "revision" and r.revision.value == "main"


def test_legacy_single_segment_repo_id_resolves():
    r = route("/gpt2/resolve/main/config.json")
    assert r.repo.name == "gpt2"


def test_api_tree_path_may_arrive_as_one_encoded_segment():
    r = route("/api/models/acme/x/tree/main/a%2Fb")
    assert (r.action, r.path.value) == ("tree", "a/b")


def test_bare_repo_info_and_legacy_info():
    assert route("/api/models/acme/x").action == "info"
    assert route("/api/models/gpt2").repo.name == "gpt2"
    assert route("/api/models/gpt2/revision/main").repo.name == "gpt2"


def test_path_prefix_is_removed_before_routing():
    r = route("/hf/acme/x/resolve/main/config.json", prefix="/hf/")
    assert r.repo.name == "acme/x"


def test_housekeeping_routes():
    assert route("/api/agent-harnesses") == Housekeeping("agent-harnesses")
    assert route("/api/telemetry/gradio/x") == Housekeeping("telemetry")


@pytest.mark.parametrize(
    "raw",
    [
        "/acme/x/resolve/main/../secret",
        "/acme/x/resolve/main/a/%2E%2E/b",
        "/acme/x/resolve/..%2F..%2Fetc/passwd",
        "/ac$me/x/resolve/main/config.json",
        "/acme/x/resolve/main/%ff%fe",
        "/acme/x/resolve/main/a%00b",
        "/api/models/acme/x/tree/ma%0Ain",
    ],
)
def test_bad_input_is_invalid_input(raw):
    with pytest.raises(InvalidInput):
        route(raw)


@pytest.mark.parametrize(
    "raw", ["/acme", "/api/nope/x/y", "/acme/x/blob/main/f", "/api/models/a/b/xyz/main"]
)
def test_unknown_shapes_are_no_such_route(raw):
    with pytest.raises(NoSuchRoute):
        route(raw)


def test_upstream_resolve_path_encodes_revision_and_keeps_slashes_in_path():
    r = route("/datasets/acme/x/resolve/refs%2Fconvert%2Fparquet/default/train/0000.parquet")
    assert resolve_path(r.repo, r.revision, r.path) == (
        "/datasets/acme/x/resolve/refs%2Fconvert%2Fparquet/default/train/0000.parquet"
    )
