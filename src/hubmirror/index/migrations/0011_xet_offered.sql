-- upstream's Xet hash of a file the mirror does not hold yet, recorded when a HEAD passed it
-- on to a client: the client's reconstruction (which may reach any worker process or node)
-- finds the blob by it and starts the fill that checks it; a HEAD starts nothing
CREATE TABLE xet_offered (
    xet_hash   TEXT PRIMARY KEY,
    sha256     TEXT NOT NULL,
    size       BIGINT NOT NULL,
    offered_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX xet_offered_by_sha256 ON xet_offered (sha256);
