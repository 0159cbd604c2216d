"""What a dashboard page needs from the server: the mirror, where clients reach it, the token."""

from __future__ import annotations

from dataclasses import dataclass

from hubmirror.mirror.service import Mirror


@dataclass(frozen=True)
class DashboardContext:
    mirror: Mirror
    base_url: str  # scheme://host[/prefix] clients use, for the HF_ENDPOINT lines
    root: str  # path prefix of the dashboard's own links ("" or "/prefix")
    admin_token: str | None = None

    def link(self, path: str) -> str:
        return f"{self.root}{path}"
