"""``sync --server``: ask a running mirror to sync, and follow its streamed progress."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from hubmirror.hub.synclist import SyncItem
from hubmirror.mirror.portable.sync import SyncResult
from hubmirror.progress import Progress


def remote_sync(
    server: str, admin_token: str, item: SyncItem, token: str | None, progress: Progress
) -> SyncResult:
    """POST ``/admin/sync`` and turn its JSON lines into progress and a result."""
    request = urllib.request.Request(
        server.rstrip("/") + "/admin/sync",
        data=json.dumps(_body(item, token)).encode(),
        headers={"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"},
        method="POST",
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request) as response:
            return _follow(item, response, progress)
    except urllib.error.HTTPError as exc:
        message = exc.headers.get("X-Error-Message") or exc.read().decode(errors="replace")
        return SyncResult(item.spec, errors=[f"{item.spec}: server said {exc.code}: {message}"])


def _body(item: SyncItem, token: str | None) -> dict:
    body = {
        "repo": str(item.spec),
        "include": list(item.files.include),
        "exclude": list(item.files.exclude),
    }
    return body | ({"token": token} if token else {})


def _follow(item: SyncItem, response, progress: Progress) -> SyncResult:
    done = total = 0
    for line in response:
        event = json.loads(line)
        if "result" in event:
            return SyncResult.from_json(item.spec, event["result"])
        counts = event["progress"]
        if counts["total"] > total:
            progress.add_total(counts["total"] - total)
            total = counts["total"]
        if counts["bytes"] > done:
            progress.advance(counts["bytes"] - done)
            done = counts["bytes"]
    return SyncResult(item.spec, errors=[f"{item.spec}: the server stopped before finishing"])
