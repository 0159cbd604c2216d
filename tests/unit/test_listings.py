"""Tree and paths-info answers computed from a commit's recursive listing."""

from hubmirror.hub.listings import has_file, paths_info_items, tree_items

ITEMS = [
    {"type": "file", "path": "README.md", "oid": "1", "size": 1},
    {"type": "directory", "path": "data", "oid": "2", "size": 0},
    {"type": "file", "path": "data/a.csv", "oid": "3", "size": 3},
    {"type": "directory", "path": "data/more", "oid": "4", "size": 0},
    {"type": "file", "path": "data/more/b.csv", "oid": "5", "size": 5},
]


def paths(items):
    return [i["path"] for i in items]


def test_root_listing_is_the_top_level_or_everything_when_recursive():
    assert paths(tree_items(ITEMS, "", recursive=False)) == ["README.md", "data"]
    assert paths(tree_items(ITEMS, "", recursive=True)) == paths(ITEMS)


def test_folder_listing_holds_only_what_is_below_it():
    assert paths(tree_items(ITEMS, "data", recursive=False)) == ["data/a.csv", "data/more"]
    assert paths(tree_items(ITEMS, "data/more", recursive=True)) == ["data/more/b.csv"]


def test_listing_of_a_file_or_missing_folder_is_none():
    assert tree_items(ITEMS, "README.md", recursive=False) is None
    assert tree_items(ITEMS, "nope", recursive=True) is None
    assert tree_items(ITEMS, "dat", recursive=True) is None


def test_paths_info_leaves_unknown_paths_out():
    assert paths(paths_info_items(ITEMS, ["data", "nope", "README.md"])) == ["README.md", "data"]


def test_only_files_count_as_present():
    assert has_file(ITEMS, "data/a.csv")
    assert not has_file(ITEMS, "data")
    assert not has_file(ITEMS, "data/c.csv")
