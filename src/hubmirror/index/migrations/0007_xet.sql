-- the Xet file hash of each stored blob, computed by the mirror from its verified bytes
-- (never copied from upstream): what resolve headers and listings advertise to hf_xet
CREATE TABLE xet_hashes (
    sha256      TEXT PRIMARY KEY,
    xet_hash    TEXT NOT NULL,
    computed_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX xet_hashes_by_xet_hash ON xet_hashes (xet_hash);
