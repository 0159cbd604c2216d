-- dashboard admin sessions ended by a logout before their expiry: a session cookie is
-- signed and carries its own expiry, so only an ended one needs a row, which every worker
-- and node reads; a row goes once its session would have expired anyway
CREATE TABLE ended_sessions (
    session_id TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
);
