"""One fill per blob: fetched once in parallel ranges, written, verified, shared by every
reader, worker and node (leases across nodes, the object store, another node's fill)."""
