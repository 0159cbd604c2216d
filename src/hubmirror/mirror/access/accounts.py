"""``/api/whoami-v2``: whom a token stands for, so ``hf auth login`` and ``hf auth whoami`` work.

A mirror token is described here, from its record: only the mirror knows its name, the
repos it may read and when it ends, and upstream must never see it. Any other token is
upstream's to describe, so upstream is asked with it, through the pool like every
metadata question (an outage is a 5xx, a refused token upstream's 401). Nothing is
cached: the answer is per token, and clients ask it once per login. Without a token
the answer is the Hub's: 401.
"""

from __future__ import annotations

import json

from hubmirror.errors import InvalidCredentials
from hubmirror.hub.accounts import mirror_token_account
from hubmirror.mirror.access.callers import Caller
from hubmirror.mirror.access.identities import INVALID_CREDENTIALS
from hubmirror.upstream.pool import UpstreamPool

WHOAMI_PATH = "/api/whoami-v2"


class Accounts:
    """Answers ``whoami`` for mirror tokens, and asks upstream for Hugging Face tokens."""

    def __init__(self, pool: UpstreamPool) -> None:
        self.pool = pool

    async def whoami(self, caller: Caller) -> bytes:
        """The JSON body of ``/api/whoami-v2`` for ``caller``."""
        if caller.identity is not None:
            account = mirror_token_account(caller.identity, caller.repos, caller.expires_at)
            return json.dumps(account).encode()
        if not caller.upstream_auth:
            raise InvalidCredentials(INVALID_CREDENTIALS)
        answer = await self.pool.call(
            lambda client: client.get_json(WHOAMI_PATH, caller.upstream_auth)
        )
        return answer.body
