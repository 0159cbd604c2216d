"""File endpoints: `/{T}{repo}/resolve/{rev}/{path}` on the hub and `/repos/{sha256}` on the CDN.

Regular files are served inline with the Hub's metadata headers; LFS files redirect
cross-origin to a signed CDN link with all metadata on the 302 (clients read a cross-origin
3xx's headers as the file's metadata), and, while `hub.xet` is on, advertise Xet the way
huggingface.co does (`X-Xet-Hash` and `Link` rel xet-auth / xet-reconstruction-info).
"""

import mimetypes
import time
from urllib.parse import quote

from aiohttp import web

from tests.fakehub.access import HubError, caller_of, commit_at, entry_not_found, readable_repo
from tests.fakehub.appkeys import HUB
from tests.fakehub.blobs import Blob
from tests.fakehub.bodies import send_blob
from tests.fakehub.repos import Commit, Repo
from tests.fakehub.routes import Route
from tests.fakehub.signing import link_problem

API_PLURAL = {"model": "models", "dataset": "datasets", "space": "spaces"}


def repo_for(request: web.Request, route: Route, *, files: bool) -> Repo:
    """The routed repo, or the Hub's error for this caller (see access.py)."""
    hub = request.app[HUB]
    repo = hub.find_repo(route.repo_type, route.repo_id)
    return readable_repo(repo, caller_of(request.headers), route.repo_id, files=files)


async def resolve(request: web.Request, route: Route) -> web.StreamResponse:
    repo = repo_for(request, route, files=True)
    commit = commit_at(repo, route.revision)
    blob = commit.files.get(route.path)
    if blob is None:
        raise entry_not_found(commit, route.path)
    headers = {"X-Repo-Commit": commit.sha, "ETag": f'"{blob.oid}"', "Accept-Ranges": "bytes"}
    if blob.lfs:
        return _redirect_to_cdn(request.app[HUB], repo, commit, blob, headers)
    headers["Content-Type"] = content_type(route.path)
    headers["Content-Disposition"] = disposition(route.path)
    return await send_blob(request, blob, headers, may_gzip=True)


def _redirect_to_cdn(hub, repo: Repo, commit: Commit, blob: Blob, headers: dict) -> web.Response:
    headers["Location"] = hub.signed_cdn_url(blob.sha256)
    headers["X-Linked-Etag"] = f'"{blob.sha256}"'
    headers["X-Linked-Size"] = str(blob.size)
    if hub.xet:
        headers.update(_xet_headers(hub, repo, commit, blob))
    return web.Response(status=302, headers=headers)


def _xet_headers(hub, repo: Repo, commit: Commit, blob: Blob) -> dict[str, str]:
    """What huggingface.co adds to announce Xet storage: the hash and two `Link` values."""
    plural = API_PLURAL[repo.repo_type]
    token_url = f"{hub.url}/api/{plural}/{repo.repo_id}/xet-read-token/{commit.sha}"
    xet_hash = hub.xet_hash_of(blob)
    reconstruction = f"{hub.xet_cas_url}/v1/reconstructions/{xet_hash}"
    return {
        "X-Xet-Hash": xet_hash,
        "Link": f'<{token_url}>; rel="xet-auth", <{reconstruction}>; rel="xet-reconstruction-info"',
    }


def require_signed_link(hub, path: str, query) -> None:
    """A 403 unless the link's signature and expiry check out (CDN and CAS links alike)."""
    problem = link_problem(
        hub.signing_key, path, query.get("expires", ""), query.get("signature", ""), time.time()
    )
    if problem:
        raise HubError(403, None, problem)


async def cdn_blob(request: web.Request, route: Route) -> web.StreamResponse:
    """Serve an LFS object by sha256, if the link's signature and expiry check out."""
    hub = request.app[HUB]
    query = request.query
    require_signed_link(hub, route.path, query)
    blob = hub.lfs_blob(route.path)
    if blob is None:
        raise HubError(404, None, "NoSuchKey")
    headers = {
        "ETag": f'"{blob.sha256}"',
        "Accept-Ranges": "bytes",
        "Content-Type": "application/octet-stream",
    }
    return await send_blob(request, blob, headers, may_gzip=False)


def content_type(path: str) -> str:
    guessed, _ = mimetypes.guess_type(path)
    if guessed is None:
        return "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed


def disposition(path: str) -> str:
    """The Hub's Content-Disposition; huggingface_hub's regex needs the trailing `;`."""
    name = path.rsplit("/", 1)[-1]
    plain = name.encode("ascii", "replace").decode().replace('"', "_")
    return f"inline; filename*=UTF-8''{quote(name)}; filename=\"{plain}\";"
