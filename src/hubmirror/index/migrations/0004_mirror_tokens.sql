-- mirror access tokens (`hubmirror token create`): only the sha256 of a token is kept,
-- never the token; `repos` is a JSON list of repo globs the token may read ([] = any)
CREATE TABLE mirror_tokens (
    name       TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    repos      TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL,
    revoked_at REAL,
    last_used  REAL
);
