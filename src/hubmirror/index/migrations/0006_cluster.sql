-- several nodes sharing one index (PostgreSQL); written in SQL both databases accept
-- one running fill per blob across nodes: the node filling it, where other nodes
-- read its growing bytes, and until when (the database's clock) the lease holds
-- unless renewed
CREATE TABLE fill_leases (
    blob_key   TEXT PRIMARY KEY,
    node       TEXT NOT NULL,
    address    TEXT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX fill_leases_by_node ON fill_leases (node);

-- values every node shares: node_secret signs node-to-node requests
CREATE TABLE cluster_settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
