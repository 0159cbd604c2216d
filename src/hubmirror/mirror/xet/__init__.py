"""Xet served to clients: hashes of verified blobs, upstream's hashes of cold files, the
mirror's read tokens, reconstructions and signed xorb URLs, and xorb bytes; ``serving``
holds the use cases the facade offers, built on these."""
