-- a commit whose complete listing the mirror holds (from sync or import): the
-- repo info at that commit and its recursive tree (files and folders), so that
-- info, tree and paths-info at the commit, and "this path does not exist", can be
-- answered when no upstream can be asked
CREATE TABLE snapshots (
    repo_type  TEXT NOT NULL,
    repo_id    TEXT NOT NULL,
    commit_sha TEXT NOT NULL,
    info       BLOB NOT NULL,
    tree       BLOB NOT NULL,
    fetched_at REAL NOT NULL,
    PRIMARY KEY (repo_type, repo_id, commit_sha)
);
