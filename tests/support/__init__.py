"""Helpers every test folder shares; look here before writing one in a test module.

Without hubmirror imports (the fake hub in tests/fakehub may use these):
    ports      a free loopback port, a dead URL, waiting until a port listens
    hashing    sha256 of bytes and of a file
    waiting    ``wait_for``: poll a condition until a deadline
    http       one raw HTTP request (status, headers, body), no redirects followed
    commands   ``hubmirror ...`` as a subprocess, and waiting until ``serve`` is ready
    nginx      ``nginx -t`` on a site file of ours
    postgres   a throwaway PostgreSQL cluster, and its fixtures
    s3         an S3 server on loopback (moto), and its fixtures
    clients    real Hugging Face clients (huggingface_hub, transformers, datasets, ...) run in
               subprocesses against a mirror, with their environment and caches

Importing hubmirror:
    mirror     ``MirrorThread``: a real mirror server in a background thread
"""
