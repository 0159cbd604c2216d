"""Tests of the client side: ``hubmirror download`` and the ``hubmirror.client`` helpers."""
