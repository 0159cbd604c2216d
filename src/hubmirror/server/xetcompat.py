"""The reconstruction routes of hf_xet releases before 1.3, so pinned clients keep working.

hf_xet builds the reconstruction URL from the ``casUrl`` the token route gave it, and the
path changed twice over its releases:

- ``{casUrl}/reconstruction/{hash}``: hf_xet 0.1.x to 1.1.9 (huggingface_hub 0.30 to 0.35);
- ``{casUrl}/reconstructions/{hash}``: hf_xet 1.1.10 to 1.2.0 (huggingface_hub 0.35, 0.36);
- ``{casUrl}/v2/reconstructions/{hash}``, falling back to ``/v1/`` on a 404: hf_xet 1.3 on.

Every one of them reads the v1 answer (``offset_into_first_range``, ``terms`` and
``fetch_info`` with an inclusive ``url_range``) and fetches xorb ranges as today's clients
do, so an old route is v1 under another name: the same token check, the same access
decision, the same body.
"""

from __future__ import annotations

# route segment -> the hf_xet releases that ask for it; all are answered as v1
LEGACY_RECONSTRUCTIONS = {
    "reconstruction": "hf_xet 0.1.x - 1.1.9",
    "reconstructions": "hf_xet 1.1.10 - 1.2.0",
}
LEGACY_VERSION = 1  # the answer's shape: what these clients deserialise


def is_legacy_reconstruction(route: str) -> bool:
    return route in LEGACY_RECONSTRUCTIONS
