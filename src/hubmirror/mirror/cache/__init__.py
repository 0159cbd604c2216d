"""What the store keeps: blobs in use and their last reads, eviction, the ``max_size`` quota,
the local tier of a node in front of the object store, and what ``cache ls/du`` report."""
