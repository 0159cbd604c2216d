-- upstream's Xet hash of a blob whose fill checks it before its last byte: tells every
-- worker process and node which running fill a cold file's Xet client reads (the
-- client's requests may reach any of them); withdrawn when that fill ends
CREATE TABLE xet_announced (
    xet_hash     TEXT PRIMARY KEY,
    sha256       TEXT NOT NULL,
    size         BIGINT NOT NULL,
    announced_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX xet_announced_by_sha256 ON xet_announced (sha256);
