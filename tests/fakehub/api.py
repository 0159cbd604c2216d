"""The `/api/...` read endpoints: repo info, tree, paths-info, refs, commits, Xet token."""

import base64
import binascii
import json
import time

from aiohttp import web

from tests.fakehub import payloads
from tests.fakehub.access import (
    INVALID_CREDENTIALS,
    Caller,
    HubError,
    caller_of,
    commit_at,
    entry_not_found,
)
from tests.fakehub.appkeys import HUB
from tests.fakehub.files import repo_for
from tests.fakehub.routes import Route
from tests.fakehub.xetcas import issue_token

EXPAND_PAGE_SIZE = 50  # the Hub's tree page size when expand=true
COMMITS_PAGE_SIZE = 50
XET_TOKEN_TTL = 3600


def truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


async def repo_info(request: web.Request, route: Route) -> web.Response:
    odd = request.app[HUB].faults.info_body
    if odd is not None:
        return web.json_response(odd)
    repo = repo_for(request, route, files=False)
    commit = commit_at(repo, route.revision or "main")
    query = request.query
    info = payloads.repo_info(
        repo, commit, blobs=truthy(query.get("blobs")), security=truthy(query.get("securityStatus"))
    )
    expand = query.getall("expand", []) + query.getall("expand[]", [])
    return web.json_response(payloads.only_expanded(info, expand) if expand else info)


async def tree(request: web.Request, route: Route) -> web.Response:
    repo = repo_for(request, route, files=True)
    commit = commit_at(repo, route.revision)
    listing = commit.listing(route.path, truthy(request.query.get("recursive")))
    if listing is None:
        raise entry_not_found(commit, route.path)
    expand = truthy(request.query.get("expand"))
    hub = request.app[HUB]
    size = min(hub.page_size, EXPAND_PAGE_SIZE) if expand else hub.page_size
    page, link = paginate(request, listing, size)
    xet = hub.xet_hash_of if hub.xet else None
    rows = [payloads.tree_entry(repo, commit, e, xet=xet, expand=expand) for e in page]
    return web.json_response(rows, headers={"Link": link} if link else None)


async def paths_info(request: web.Request, route: Route) -> web.Response:
    """Entries for the posted `paths` (form fields, repeated); unknown paths are left out."""
    repo = repo_for(request, route, files=True)
    commit = commit_at(repo, route.revision)
    paths, expand = await _posted_paths(request)
    found = [commit.entry(p.strip("/")) for p in dict.fromkeys(paths)]
    hub = request.app[HUB]
    xet = hub.xet_hash_of if hub.xet else None
    rows = [payloads.tree_entry(repo, commit, e, xet=xet, expand=expand) for e in found if e]
    return web.json_response(rows)


async def _posted_paths(request: web.Request) -> tuple[list[str], bool]:
    if request.content_type == "application/json":
        body = await request.json()
        return list(body.get("paths", [])), bool(body.get("expand"))
    form = await request.post()
    return [str(p) for p in form.getall("paths", [])], truthy(str(form.get("expand", "")))


async def refs(request: web.Request, route: Route) -> web.Response:
    repo = repo_for(request, route, files=False)
    return web.json_response(payloads.refs(repo, truthy(request.query.get("include_prs"))))


async def commits(request: web.Request, route: Route) -> web.Response:
    repo = repo_for(request, route, files=False)
    commit = commit_at(repo, route.revision)
    page, link = paginate(request, repo.history(commit.sha), COMMITS_PAGE_SIZE)
    rows = [payloads.commit_row(c) for c in page]
    return web.json_response(rows, headers={"Link": link} if link else None)


async def treesize(request: web.Request, route: Route) -> web.Response:
    repo = repo_for(request, route, files=True)
    commit = commit_at(repo, route.revision)
    return web.json_response({"size": sum(blob.size for blob in commit.files.values())})


async def xet_read_token(request: web.Request, route: Route) -> web.Response:
    """The token hand-out a mirror must never pass through: it sends clients to upstream's CAS."""
    repo = repo_for(request, route, files=True)
    commit_at(repo, route.revision)
    hub = request.app[HUB]
    expires = int(time.time()) + XET_TOKEN_TTL
    token = issue_token(hub.signing_key, repo.object_id, expires)
    headers = {
        "X-Xet-Cas-Url": hub.xet_cas_url,
        "X-Xet-Access-Token": token,
        "X-Xet-Token-Expiration": str(expires),
    }
    body = {"casUrl": hub.xet_cas_url, "accessToken": token, "exp": expires}
    return web.json_response(body, headers=headers)


async def agent_harnesses(request: web.Request, route: Route) -> web.Response:
    return web.json_response({"standardEnvVars": [], "harnesses": {}})


async def whoami(request: web.Request, route: Route) -> web.Response:
    """The account behind the token, as `hf auth login`/`whoami` read it; none: the Hub's 401."""
    caller = caller_of(request.headers)
    if caller is Caller.ANONYMOUS:
        raise HubError(401, None, INVALID_CREDENTIALS)
    return web.json_response(payloads.account(caller.value))


async def telemetry(request: web.Request, route: Route) -> web.Response:
    return web.Response(status=200)


def paginate(request: web.Request, items: list, size: int) -> tuple[list, str | None]:
    """One page at the request's `cursor`, and an absolute Link to the next page if any.

    The Link reuses the Host header the client sent, because clients follow it verbatim and
    a relative URL makes huggingface_hub fail.
    """
    offset = _cursor_offset(request.query.get("cursor"))
    end = offset + size
    if end >= len(items):
        return items[offset:], None
    path, _, query = request.raw_path.partition("?")
    params = [p for p in query.split("&") if p and not p.startswith("cursor=")]
    params.append(f"cursor={_encode_cursor(end)}")
    return items[offset:end], f'<http://{request.host}{path}?{"&".join(params)}>; rel="next"'


def _encode_cursor(offset: int) -> str:
    raw = json.dumps({"offset": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return int(json.loads(raw)["offset"])
    except (binascii.Error, ValueError, KeyError, TypeError) as error:
        raise HubError(400, None, f"Invalid cursor: {cursor}") from error
