-- the audit log: every file download and every access decision, who and what,
-- never a token, only its fingerprint (also written as JSON lines, DATA/audit.jsonl)
CREATE TABLE audit (
    id          INTEGER PRIMARY KEY,
    at          REAL NOT NULL,     -- seconds since the epoch
    event       TEXT NOT NULL,     -- download | refused | decision
    address     TEXT NOT NULL,     -- the client's IP address
    identity    TEXT,              -- the mirror token's name, if one was presented
    fingerprint TEXT NOT NULL,     -- of the token presented, or "anonymous"
    repo_type   TEXT NOT NULL,
    repo_id     TEXT NOT NULL,
    revision    TEXT,              -- as asked
    commit_sha  TEXT,              -- as answered (X-Repo-Commit)
    path        TEXT,
    method      TEXT,              -- GET, HEAD, POST, or NULL for policy decisions
    action      TEXT,              -- resolve, or the API action (info, tree, ...)
    bytes       INTEGER NOT NULL,  -- body bytes sent
    status      INTEGER,           -- HTTP status answered
    cache       TEXT,              -- HIT, MISS, STALE (X-Cache-Status)
    verdict     TEXT,              -- allowed, denied, pending, approved, ...
    reason      TEXT               -- X-Error-Code of a refusal, or the policy's reason
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_repo ON audit (repo_type, repo_id, at);
