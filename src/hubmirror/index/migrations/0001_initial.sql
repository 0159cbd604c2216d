-- revision (branch, tag, pr ref or sha) -> commit, with the time upstream said so
CREATE TABLE revisions (
    repo_type  TEXT NOT NULL,
    repo_id    TEXT NOT NULL,
    revision   TEXT NOT NULL,
    commit_sha TEXT NOT NULL,
    fetched_at REAL NOT NULL,
    PRIMARY KEY (repo_type, repo_id, revision)
);

-- commit + path -> file metadata; immutable once known
CREATE TABLE entries (
    repo_type  TEXT NOT NULL,
    repo_id    TEXT NOT NULL,
    commit_sha TEXT NOT NULL,
    path       TEXT NOT NULL,
    size       INTEGER NOT NULL,
    etag       TEXT NOT NULL,
    lfs        INTEGER NOT NULL,
    sha256     TEXT,
    PRIMARY KEY (repo_type, repo_id, commit_sha, path)
);

-- commit + path that upstream confirmed absent (404 EntryNotFound)
CREATE TABLE missing_entries (
    repo_type  TEXT NOT NULL,
    repo_id    TEXT NOT NULL,
    commit_sha TEXT NOT NULL,
    path       TEXT NOT NULL,
    fetched_at REAL NOT NULL,
    PRIMARY KEY (repo_type, repo_id, commit_sha, path)
);

-- verified blobs in the store; git_sha1 maps a regular file's ETag to its bytes
CREATE TABLE blobs (
    sha256      TEXT PRIMARY KEY,
    git_sha1    TEXT NOT NULL,
    size        INTEGER NOT NULL,
    created_at  REAL NOT NULL,
    last_access REAL NOT NULL
);
CREATE INDEX blobs_by_git_sha1 ON blobs (git_sha1);

-- rewritten JSON API answers (repo info, tree pages, paths-info, refs)
CREATE TABLE api_answers (
    key        TEXT PRIMARY KEY,
    repo_type  TEXT NOT NULL,
    repo_id    TEXT NOT NULL,
    status     INTEGER NOT NULL,
    body       BLOB NOT NULL,
    link_next  TEXT,
    fetched_at REAL NOT NULL
);

-- whether anonymous callers may read a repo (public) or each token must be checked
CREATE TABLE repos (
    repo_type  TEXT NOT NULL,
    repo_id    TEXT NOT NULL,
    visibility TEXT NOT NULL,
    checked_at REAL NOT NULL,
    PRIMARY KEY (repo_type, repo_id)
);
