"""The files of ``deploy/`` are checked as far as this machine allows: no image registry
and no Kubernetes are reachable, so the compose file and the chart are parsed (the chart
after a placeholder substitution of its Go-template tags), every setting they name must
exist in :class:`Settings`, every ``.Values`` path a template reads must exist in
``values.yaml``, and the container's entrypoint is run here as a plain process."""

from __future__ import annotations

import configparser
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices

from ai_gateway.settings import Settings
from ai_gateway.vault import generate_master_key
from tests.conftest import free_port

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
CHART = DEPLOY / "helm" / "ai-gateway"
_ENV_NAME = re.compile(r"\b(?:AI_GATEWAY_[A-Z0-9_]+|ENABLE_AI_GATEWAY)\b")
_TAG = re.compile(r"{{-?.*?-?}}")
#: Variables the entrypoint reads itself (the usual container names), not settings.
ENTRYPOINT_VARS = {"HOST", "PORT", "WEB_CONCURRENCY"}


def settings_env_names() -> set[str]:
    names: set[str] = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(str(choice) for choice in alias.choices)
        else:
            names.add(f"AI_GATEWAY_{name.upper()}")
    return names


def _unknown_settings(text: str) -> set[str]:
    return set(_ENV_NAME.findall(text)) - settings_env_names()


def test_compose_parses_and_names_only_real_settings() -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    compose = yaml.safe_load(text)
    services = compose["services"]
    assert {"gateway", "nginx", "postgres", "redis", "migrate"} <= set(services)
    assert services["gateway"]["deploy"]["replicas"] == 3
    assert services["migrate"]["command"] == ["migrate"]
    assert services["gateway"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    env = services["gateway"]["environment"]
    assert env["AI_GATEWAY_DATABASE_URL"].startswith("postgresql://")
    assert env["AI_GATEWAY_REDIS_URL"].startswith("redis://")
    assert _unknown_settings(text) == set()
    assert set(env) - settings_env_names() <= ENTRYPOINT_VARS


def _render(template: str) -> str:
    """Go-template tags out: a line that is only tags goes, an inline tag becomes a word."""
    lines = []
    for line in template.splitlines():
        if line.strip() and not _TAG.sub("", line).strip():
            continue
        lines.append(_TAG.sub("placeholder", line))
    return "\n".join(lines)


def _templates() -> dict[str, list[dict[str, Any]]]:
    out = {}
    for path in sorted((CHART / "templates").glob("*.yaml")):
        docs = [d for d in yaml.safe_load_all(_render(path.read_text())) if d]
        out[path.name] = docs
    return out


def test_chart_templates_parse_and_have_the_parts_a_cluster_needs() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2" and chart["name"] == "ai-gateway"
    kinds = {doc["kind"]: doc for docs in _templates().values() for doc in docs}
    assert {"Deployment", "Service", "Job", "Secret", "HorizontalPodAutoscaler"} <= set(kinds)
    container = kinds["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert kinds["Deployment"]["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"]
    job = kinds["Job"]
    assert "pre-install" in job["metadata"]["annotations"]["helm.sh/hook"]
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]
    assert "AI_GATEWAY_MASTER_KEY" in kinds["Secret"]["stringData"]


def test_chart_reads_only_values_that_exist_and_names_only_real_settings() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    for path in sorted(CHART.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text()
        assert _unknown_settings(text) == set(), path.name
        for ref in re.findall(r"\.Values\.([A-Za-z0-9_.]+)", text):
            node: Any = values
            for part in ref.split("."):
                assert isinstance(node, dict) and part in node, f"{path.name}: .Values.{ref}"
                node = node[part]


def test_dockerfile_is_multi_stage_slim_unprivileged_with_a_healthcheck() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    froms = re.findall(r"^FROM (\S+)", text, flags=re.M)
    assert len(froms) >= 2 and all("slim" in f for f in froms)
    user = re.findall(r"^USER (\S+)", text, flags=re.M)
    assert user and not user[-1].startswith(("root", "0"))
    assert re.search(r"^HEALTHCHECK .*", text, flags=re.M)
    assert "/healthz" in text
    assert "ENTRYPOINT" in text and "entrypoint.sh" in text
    assert _unknown_settings(text) == set()


def test_systemd_unit() -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read_string((DEPLOY / "systemd" / "ai-gateway.service").read_text())
    service = parser["Service"]
    assert "serve" in service["ExecStart"] and "migrate" in service["ExecStartPre"]
    assert service["User"] != "root" and service["KillSignal"] == "SIGTERM"
    assert _unknown_settings((DEPLOY / "systemd" / "ai-gateway.service").read_text()) == set()


def test_nginx_conf_streams_unbuffered_with_keepalive() -> None:
    text = (DEPLOY / "nginx.conf").read_text()
    assert "proxy_buffering off" in text and "keepalive" in text
    assert text.count("{") == text.count("}")


def test_nginx_drops_idle_upstream_connections_before_the_gateway_does() -> None:
    """A POST sent on a keep-alive connection the replica is closing is a 502 that nginx
    does not retry: nginx must give idle connections up first."""
    upstream = re.search(
        r"upstream ai_gateway \{(.*?)\}", (DEPLOY / "nginx.conf").read_text(), re.S
    )
    assert upstream is not None
    found = re.search(r"keepalive_timeout (\d+)s;", upstream.group(1))
    assert found is not None, "the upstream block must set keepalive_timeout"
    gateway_default = Settings.model_fields["keepalive_timeout"].default
    assert int(found.group(1)) < gateway_default


def _entrypoint_env(tmp_path: Path, port: int) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("AI_GATEWAY_")}
    env.update(
        {
            "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "WEB_CONCURRENCY": "1",
            "AI_GATEWAY_DATA_DIR": str(tmp_path / "data"),
            "AI_GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'gw.db'}",
            "AI_GATEWAY_MASTER_KEY": generate_master_key(),
            "AI_GATEWAY_SCHEDULER_ENABLED": "false",
            "AI_GATEWAY_PTAX_BASE_URL": "http://127.0.0.1:9/odata",
        }
    )
    return env


def test_the_entrypoint_migrates_and_serves_as_a_plain_process(tmp_path: Path) -> None:
    if not (Path(sys.executable).parent / "ai-gateway").exists():
        pytest.skip("the ai-gateway script is not installed next to this Python")
    port = free_port()
    env = _entrypoint_env(tmp_path, port)
    script = str(DEPLOY / "entrypoint.sh")
    migrate = subprocess.run(["sh", script, "migrate"], env=env, capture_output=True, timeout=60)
    assert migrate.returncode == 0, migrate.stderr.decode()[-2000:]
    proc = subprocess.Popen(["sh", script], env=env, cwd=tmp_path)  # default: serve
    try:
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    status = r.status
                    break
            except OSError:
                assert proc.poll() is None, "the entrypoint exited"
                time.sleep(0.1)
        assert status == 200
    finally:
        proc.send_signal(signal.SIGTERM)  # exec'd: the signal reaches uvicorn itself
        assert proc.wait(timeout=30) in (0, -signal.SIGTERM)
