"""``use_mirror``: point this process's Hub clients at a mirror, even after they were imported.

huggingface_hub reads ``HF_ENDPOINT`` once, at import, and copies it into several places
(huggingface_hub 2.4: ``constants.ENDPOINT``, ``constants.HUGGINGFACE_CO_URL_TEMPLATE``,
``constants.HF_URL_HOSTS``, ``utils._http._HUB_ORIGINS`` (which hosts get the token on a
redirect), the default ``HfApi`` behind ``model_info`` & co, the default ``HfFileSystem``,
two ``from constants import ENDPOINT`` copies); transformers keeps a shared ``HfApi`` and
datasets its own ``config.HF_ENDPOINT``. Setting the variable later changes none of them.

So the switch is planned first: every copy we know is rebuilt, and loaded client modules are
searched for any other copy of the old endpoint. If one is found, nothing is changed and
:class:`EndpointCaptured` says where, because a half-switched process would send some
requests to the old endpoint without anyone noticing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from urllib.parse import urlsplit

from hubmirror.client.urls import normalize_endpoint

STAGING_VARIABLE = "HUGGINGFACE_CO_STAGING"
CLIENT_PACKAGES = frozenset(
    {"huggingface_hub", "transformers", "datasets", "diffusers", "sentence_transformers", "peft"}
)
_HUB_DEFAULT = "https://huggingface.co"
_STAGING = "https://hub-ci.huggingface.co"
# Module-level names that hold the public Hub on purpose, not a copy of HF_ENDPOINT.
_NOT_COPIES = frozenset(
    {"_HF_DEFAULT_ENDPOINT", "_HF_DEFAULT_STAGING_ENDPOINT", "HUGGINGFACE_CO_URL_HOME"}
)


class EndpointCaptured(RuntimeError):
    """A loaded library holds the old endpoint where ``use_mirror`` cannot change it."""


@dataclass(frozen=True, slots=True)
class StringCopy:
    """``module.name`` holds the endpoint followed by ``suffix``."""

    module: str
    name: str
    suffix: str = ""


STRING_COPIES = (
    StringCopy("huggingface_hub.constants", "ENDPOINT"),
    StringCopy(
        "huggingface_hub.constants",
        "HUGGINGFACE_CO_URL_TEMPLATE",
        "/{repo_id}/resolve/{revision}/{filename}",
    ),
    StringCopy("huggingface_hub.utils._git_credential", "ENDPOINT"),
    StringCopy("huggingface_hub.cli.auth", "ENDPOINT"),
    StringCopy("datasets.config", "HF_ENDPOINT"),
    StringCopy(
        "datasets.config", "HUB_DATASETS_URL", "/datasets/{repo_id}/resolve/{revision}/{path}"
    ),
)


@dataclass
class SwitchPlan:
    """What ``use_mirror`` will set, and what stops it."""

    changes: list[tuple[object, str, object]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    old: set[str] = field(default_factory=set)  # endpoints found in the copies

    def set(self, target: object, name: str, value: object) -> None:
        self.changes.append((target, name, value))


def use_mirror(url: str) -> None:
    """Send every Hub request of this process, and of processes it starts, to ``url``.

    Sets ``os.environ["HF_ENDPOINT"]`` and, if huggingface_hub (or transformers, datasets)
    is already imported, the copies of the endpoint they took at import. Raises
    :class:`EndpointCaptured`, changing nothing, when a copy cannot be changed.
    """
    endpoint = normalize_endpoint(url)
    plan = plan_switch(endpoint, sys.modules, os.environ)
    if plan.problems:
        raise EndpointCaptured(
            f"cannot switch this process to {endpoint}: "
            + "; ".join(plan.problems)
            + ". Set HF_ENDPOINT before importing huggingface_hub (in the shell, or at the very "
            "top of the script) instead."
        )
    os.environ["HF_ENDPOINT"] = endpoint
    for target, name, value in plan.changes:
        setattr(target, name, value)


def plan_switch(
    endpoint: str, modules: Mapping[str, ModuleType], environ: Mapping[str, str]
) -> SwitchPlan:
    """Decide every assignment first; nothing is changed here."""
    plan = SwitchPlan()
    if environ.get(STAGING_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on"):
        plan.problems.append(
            f"{STAGING_VARIABLE} is set, and huggingface_hub then ignores HF_ENDPOINT"
        )
    _plan_strings(plan, endpoint, modules)
    _plan_trusted_hosts(plan, endpoint, modules)
    _plan_clients(plan, endpoint, modules)
    _find_other_copies(plan, modules)
    return plan


def _plan_strings(plan: SwitchPlan, endpoint: str, modules: Mapping[str, ModuleType]) -> None:
    for copy in STRING_COPIES:
        module = modules.get(copy.module)
        value = getattr(module, copy.name, None) if module is not None else None
        if value is None:
            continue
        if not isinstance(value, str) or not value.endswith(copy.suffix):
            plan.problems.append(f"{copy.module}.{copy.name} has an unexpected value {value!r}")
            continue
        plan.old.add(value[: len(value) - len(copy.suffix)].rstrip("/"))
        plan.set(module, copy.name, endpoint + copy.suffix)


def _plan_trusted_hosts(plan: SwitchPlan, endpoint: str, modules: Mapping[str, ModuleType]) -> None:
    """The hosts huggingface_hub sends the token to on redirects: the Hub's and the endpoint's."""
    constants = modules.get("huggingface_hub.constants")
    if constants is not None and hasattr(constants, "HF_URL_HOSTS"):
        hosts = {urlsplit(url).hostname for url in (_HUB_DEFAULT, _STAGING, endpoint)}
        plan.set(constants, "HF_URL_HOSTS", frozenset({"hf.co"} | {h.lower() for h in hosts if h}))
    http = modules.get("huggingface_hub.utils._http")
    if http is None or not hasattr(http, "_HUB_ORIGINS"):
        return
    url_origin = getattr(http, "_url_origin", None)
    if not callable(url_origin):
        plan.problems.append("huggingface_hub.utils._http._HUB_ORIGINS cannot be rebuilt")
        return
    origins = (_HUB_DEFAULT, _STAGING, endpoint, "https://hf.co")
    plan.set(http, "_HUB_ORIGINS", frozenset(url_origin(url) for url in origins))


def _plan_clients(plan: SwitchPlan, endpoint: str, modules: Mapping[str, ModuleType]) -> None:
    """Module-level ``HfApi``/``HfFileSystem`` objects made with the old endpoint."""
    kinds = _client_classes(modules)
    if not kinds:
        return
    for _where, _name, value in _module_values(modules):
        if isinstance(value, kinds) and _endpoint_of(value) in plan.old:
            plan.set(value, "endpoint", endpoint)
            inner = getattr(value, "_api", None)
            if isinstance(inner, kinds) and _endpoint_of(inner) in plan.old:
                plan.set(inner, "endpoint", endpoint)


def _client_classes(modules: Mapping[str, ModuleType]) -> tuple[type, ...]:
    found = []
    for module_name, class_name in (
        ("huggingface_hub.hf_api", "HfApi"),
        ("huggingface_hub.hf_file_system", "HfFileSystem"),
    ):
        cls = getattr(modules.get(module_name), class_name, None)
        if isinstance(cls, type):
            found.append(cls)
    return tuple(found)


def _endpoint_of(client: object) -> str | None:
    value = vars(client).get("endpoint") if hasattr(client, "__dict__") else None
    return value.rstrip("/") if isinstance(value, str) else None


def _find_other_copies(plan: SwitchPlan, modules: Mapping[str, ModuleType]) -> None:
    """Any other module-level string that is (or starts a URL template with) the old endpoint."""
    known = {(copy.module, copy.name) for copy in STRING_COPIES}
    templates = tuple(old + "/{" for old in plan.old)
    for where, name, value in _module_values(modules):
        if not isinstance(value, str) or name in _NOT_COPIES or (where, name) in known:
            continue
        if value.rstrip("/") in plan.old or any(t in value for t in templates):
            plan.problems.append(f"{where}.{name} holds a copy of the old endpoint {value!r}")


def _module_values(modules: Mapping[str, ModuleType]) -> Iterator[tuple[str, str, object]]:
    """(module, name, value) of every global of the loaded client libraries.

    Reads module dictionaries only, so lazy modules (transformers) import nothing.
    """
    for module_name, module in list(modules.items()):
        if module_name.partition(".")[0] not in CLIENT_PACKAGES:
            continue
        namespace = getattr(module, "__dict__", None)
        if isinstance(namespace, dict):
            for name, value in list(namespace.items()):
                yield module_name, name, value
