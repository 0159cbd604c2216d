"""Typed keys for what the fake hub stores on aiohttp apps and requests."""

from typing import Any

from aiohttp import web

from tests.fakehub.requestlog import LogEntry

HUB = web.AppKey("fakehub.hub", Any)  # the FakeHub serving this app
HOST = web.AppKey("fakehub.host", str)  # "hub" or "cdn"
ENTRY = web.RequestKey("fakehub.entry", LogEntry)  # this request's log entry
