"""A central mirror behind a path prefix (``public_url = http://gw/hubmirror``): its page links
carry the prefix, and the site must follow them below its upstream URL, not below the prefix
twice, and show them to clients as its own paths."""

from __future__ import annotations

from aiohttp import web

from hubmirror.upstream.client import HubClient, create_session
from tests.client.support import serve_app

PAGE = "/api/models/acme/many-files/tree/main"


def gateway_app() -> web.Application:
    """Serves the central's tree pages under /hubmirror, with links as the central makes them."""

    async def tree(request: web.Request) -> web.Response:
        cursor = request.query.get("cursor")
        headers = {}
        if cursor is None:
            base = f"http://{request.host}/hubmirror"
            headers["Link"] = f'<{base}{PAGE}?recursive=true&cursor=2>; rel="next"'
        return web.json_response([{"page": cursor or "1"}], headers=headers)

    app = web.Application()
    app.router.add_get("/hubmirror" + PAGE, tree)
    return app


async def test_next_page_links_of_a_prefixed_upstream_become_paths_below_it():
    runner, url = await serve_app(gateway_app())
    session = create_session(5.0)
    try:
        client = HubClient(session, url + "/hubmirror")
        first = await client.get_json(PAGE + "?recursive=true", None)
        second = await client.get_json(first.link_next, None)
    finally:
        await session.close()
        await runner.cleanup()

    assert first.link_next == PAGE + "?recursive=true&cursor=2"
    assert second.body == b'[{"page": "2"}]'
    assert second.link_next is None


def test_links_elsewhere_are_left_as_they_are():
    client = HubClient(None, "https://huggingface.co")

    assert client.below_base("https://huggingface.co/api/x?cursor=1") == "/api/x?cursor=1"
    assert client.below_base("https://other.example/api/x") == "https://other.example/api/x"
    assert client.below_base(None) is None
