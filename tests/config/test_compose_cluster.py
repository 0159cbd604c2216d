"""deploy/compose-cluster.yaml and deploy/nginx/cluster.conf, checked without Docker:
the services are there, every node gets the same index and store and its own node_url,
the settings they name exist and parse, and nginx -t accepts the balancer."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from hubmirror.settings import ENV_PREFIX, SETTINGS, load_settings
from tests.support.nginx import assert_nginx_accepts

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
NODES = ("node-a", "node-b")
KNOWN_VARIABLES = {s.env_var for s in SETTINGS} | {ENV_PREFIX + "CONFIG"}
PER_NODE = {ENV_PREFIX + "NODE_URL"}


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose-cluster.yaml").read_text())


def _node_env(name: str) -> dict[str, str]:
    return {k: str(v) for k, v in _compose()["services"][name]["environment"].items()}


def _defaults(value: str) -> str:
    """``${VAR:-default}`` replaced by its default, as compose does when VAR is unset."""
    while "${" in value:
        start = value.index("${")
        end = value.index("}", start)
        value = value[:start] + value[start + 2 : end].split(":-", 1)[-1] + value[end + 1 :]
    return value


def test_cluster_compose_has_two_nodes_postgres_minio_its_bucket_and_a_balancer():
    services = _compose()["services"]
    assert set(services) == {*NODES, "postgres", "minio", "minio-init", "nginx"}
    assert services["minio"]["image"] == "minio/minio"
    assert services["minio-init"]["image"] == "minio/mc"
    assert "mc mb --ignore-existing cluster/hubmirror" in " ".join(
        services["minio-init"]["command"]
    )
    for name in NODES:
        node = services[name]
        build = node["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
        assert build["args"] == {"EXTRAS": "cluster"}
        assert node["depends_on"]["minio-init"]["condition"] == "service_completed_successfully"
        assert node["volumes"] == [f"{name}-data:/data"]
    assert set(services["nginx"]["depends_on"]) == set(NODES)


def test_cluster_nodes_share_index_and_store_and_differ_only_in_node_url():
    first, second = (_node_env(name) for name in NODES)
    assert set(first) == set(second) and set(first) <= KNOWN_VARIABLES
    shared = set(first) - PER_NODE
    assert {k: first[k] for k in shared} == {k: second[k] for k in shared}
    urls = [urlsplit(env[ENV_PREFIX + "NODE_URL"]) for env in (first, second)]
    assert [(u.hostname, u.port) for u in urls] == [(name, 8080) for name in NODES]


def test_cluster_node_settings_name_the_compose_postgres_and_minio_and_parse():
    env = {k: _defaults(v) for k, v in _node_env("node-a").items()}
    settings = load_settings(env=env)
    services = _compose()["services"]
    postgres = {k: _defaults(str(v)) for k, v in services["postgres"]["environment"].items()}
    index = urlsplit(settings.index)
    assert (index.scheme, index.hostname, index.port) == ("postgresql", "postgres", 5432)
    assert (index.username, index.password) == (
        postgres["POSTGRES_USER"],
        postgres["POSTGRES_PASSWORD"],
    )
    assert index.path == "/" + postgres["POSTGRES_DB"]
    minio = {k: _defaults(str(v)) for k, v in services["minio"]["environment"].items()}
    assert settings.store == "s3://hubmirror/mirror"
    assert settings.s3_endpoint == "http://minio:9000"
    assert (settings.s3_access_key, settings.s3_secret_key) == (
        minio["MINIO_ROOT_USER"],
        minio["MINIO_ROOT_PASSWORD"],
    )
    assert settings.local_tier_size == 20 * 1024**3


def test_cluster_balancer_round_robins_both_nodes_and_passes_nginx_t(tmp_path):
    site = (DEPLOY / "nginx" / "cluster.conf").read_text()
    servers = re.findall(r"^\s*server\s+([\w.-]+:\d+)", site, re.MULTILINE)
    assert servers == [f"{name}:8080" for name in NODES]
    assert "proxy_buffering off;" in site and "hash " not in site and "ip_hash" not in site
    mounted = _compose()["services"]["nginx"]["volumes"][0].split(":")[0]
    assert (DEPLOY / mounted).resolve() == DEPLOY / "nginx" / "cluster.conf"
    for port, name in enumerate(NODES, start=18081):  # nginx -t resolves upstream names
        site = site.replace(f"{name}:8080", f"127.0.0.1:{port}")
    site = site.replace("listen 80;", "listen 127.0.0.1:18080;")
    assert_nginx_accepts(tmp_path, site)
