"""Git smart HTTP, read only, the Hub's way: `git http-backend` run as a CGI per request.

`GET /{repo}(.git)/info/refs?service=git-upload-pack` and `POST /{repo}(.git)/git-upload-pack`
(models at the root, `datasets/...`, `spaces/...`). Gated and private repos need the same token
as the API; git sends it as HTTP Basic (any user, the token as password) and only after a 401
that carries `WWW-Authenticate: Basic`. aiohttp has already gunzipped a gzip request body, so
the CGI is handed plain bytes and no HTTP_CONTENT_ENCODING.
"""

import asyncio
import os

from aiohttp import web

from tests.fakehub.access import HubError
from tests.fakehub.appkeys import HUB
from tests.fakehub.files import repo_for
from tests.fakehub.routes import Route

UPLOAD_PACK = "git-upload-pack"
REALM = 'Basic realm="Authentication required"'
LFS_MEDIA_TYPE = "application/vnd.git-lfs+json"
LFS_HREF_TTL = 3600


async def info_refs(request: web.Request, route: Route) -> web.StreamResponse:
    if request.query.get("service") != UPLOAD_PACK:
        raise HubError(403, None, "This git endpoint is read-only: only git-upload-pack")
    return await _backend(request, route, "info/refs")


async def upload_pack(request: web.Request, route: Route) -> web.StreamResponse:
    return await _backend(request, route, UPLOAD_PACK)


async def receive_pack(request: web.Request, route: Route) -> web.StreamResponse:
    raise HubError(403, None, "The fake hub's git endpoint is read-only")


async def lfs_batch(request: web.Request, route: Route) -> web.StreamResponse:
    """The git-lfs Batch API, download only: hrefs are signed links to the fake CDN."""
    repo = _readable(request, route)
    body = await request.json()
    if body.get("operation") != "download":
        raise HubError(403, None, "The fake hub's LFS endpoint is read-only")
    hub = request.app[HUB]
    known = {b.sha256: b for c in repo.commits.values() for b in c.files.values() if b.lfs}
    objects = []
    for wanted in body.get("objects", []):
        oid, size = wanted.get("oid"), wanted.get("size")
        row = {"oid": oid, "size": size}
        if oid in known:
            href = hub.signed_cdn_url(oid)
            row["authenticated"] = True
            row["actions"] = {"download": {"href": href, "expires_in": LFS_HREF_TTL}}
        else:
            row["error"] = {"code": 404, "message": "Object does not exist"}
        objects.append(row)
    answer = {"transfer": "basic", "objects": objects}
    return web.json_response(answer, content_type=LFS_MEDIA_TYPE)


def _readable(request: web.Request, route: Route):
    """The repo if this caller may read its files; a 401 says `Basic` so git asks for a token."""
    try:
        return repo_for(request, route, files=True)
    except HubError as error:
        if error.status == 401:
            error.headers["WWW-Authenticate"] = REALM
        raise


async def _backend(request: web.Request, route: Route, service_path: str) -> web.Response:
    repo = _readable(request, route)
    hub = request.app[HUB]
    git_repos = hub.git_repos()
    path = git_repos.materialize(repo)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(git_repos.root),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_PROJECT_ROOT": str(git_repos.root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": f"/{git_repos.relative_path(repo)}/{service_path}",
        "QUERY_STRING": request.query_string,
        "REQUEST_METHOD": request.method,
        "CONTENT_TYPE": request.headers.get("Content-Type", ""),
        "REMOTE_ADDR": request.remote or "127.0.0.1",
    }
    if "Git-Protocol" in request.headers:
        env["GIT_PROTOCOL"] = request.headers["Git-Protocol"]
    body = await request.read()
    env["CONTENT_LENGTH"] = str(len(body))
    process = await asyncio.create_subprocess_exec(
        "git",
        "http-backend",
        env=env,
        cwd=path,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    output, errors = await process.communicate(body)
    if process.returncode != 0 and not output:
        raise HubError(500, None, f"git http-backend failed: {errors.decode(errors='replace')}")
    return _cgi_response(output)


def _cgi_response(output: bytes) -> web.Response:
    """The CGI answer: a header block (Status: among them), a blank line, the body."""
    ends = [(output.find(mark), mark) for mark in (b"\r\n\r\n", b"\n\n") if mark in output]
    if not ends:
        raise HubError(500, None, "git http-backend answered without a header block")
    head, _, body = output.partition(min(ends)[1])
    status = 200
    headers: dict[str, str] = {}
    for line in head.decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.split()[0])
        elif name:
            headers[name.strip()] = value.strip()
    return web.Response(status=status, body=body, headers=headers)
