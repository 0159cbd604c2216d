-- repos asked for while not allowed (approval mode), and the operators' decision
CREATE TABLE repo_approvals (
    repo_type    TEXT NOT NULL,
    repo_id      TEXT NOT NULL,
    state        TEXT NOT NULL,  -- pending | approved | denied
    requested_at REAL,
    requested_by TEXT,
    requests     INTEGER NOT NULL DEFAULT 0,
    decided_at   REAL,
    decided_by   TEXT,
    PRIMARY KEY (repo_type, repo_id)
);

-- token fingerprints upstream confirmed for a gated or private repo: who may still be
-- served from the cache during an outage (offline_access = confirmed-tokens)
CREATE TABLE access_grants (
    fingerprint  TEXT NOT NULL,
    repo_type    TEXT NOT NULL,
    repo_id      TEXT NOT NULL,
    confirmed_at REAL NOT NULL,
    PRIMARY KEY (fingerprint, repo_type, repo_id)
);
