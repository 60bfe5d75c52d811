"""deploy/ and the GitHub workflow agree with the app, read as files: no Docker here.

No Docker engine runs on the development machines, so the image is never built and
the compose file never started by these tests (the workflow's `image` job does both).
What they catch: a setting name or value the app does not know, a service that waits
for the wrong thing, a proxy pointed at the wrong port or health path, a Dockerfile
that leaves out a folder the app reads at run time.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests.support.app import app_config
from vibechat.app import create_app
from vibechat.commands import cli
from vibechat.config import PROJECT_ROOT, SETTINGS, check_workers, load_settings

DEPLOY = PROJECT_ROOT / "deploy"
SETTING_NAMES = {setting.name for setting in SETTINGS}
APP_SERVICES = ("app1", "app2")
IMAGE_SERVICES = ("migrate", *APP_SERVICES)


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def compose() -> dict:
    return yaml.safe_load(read(DEPLOY / "compose.yaml"))


def services() -> dict:
    return compose()["services"]


def workflow() -> dict:
    return yaml.safe_load(read(PROJECT_ROOT / ".github" / "workflows" / "ci.yml"))


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    lines = [line for line in read(DEPLOY / "Dockerfile").splitlines() if not line.startswith("#")]
    joined = "\n".join(lines).replace("\\\n", " ")
    parsed = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, arguments = line.strip().partition(" ")
            parsed.append((keyword.upper(), arguments.strip()))
    return parsed


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def dockerfile_env() -> dict[str, str]:
    env = {}
    for keyword, arguments in final_stage():
        if keyword == "ENV":
            env.update(pair.split("=", 1) for pair in shlex.split(arguments))
    return env


def exec_form(keyword: str) -> list[str]:
    """The JSON array of the final stage's CMD, or of HEALTHCHECK ... CMD [...]."""
    (arguments,) = [arguments for kw, arguments in final_stage() if kw == keyword]
    return json.loads(arguments[arguments.index("[") :])


def interpolated(value: str) -> str:
    """A compose value as compose would see it with nothing exported: `${X:-d}` is d,
    and `${X:?message}` (which refuses to start without X) stands for any value."""
    value = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))
    return re.sub(r"\$\{[A-Z_]+:\?[^}]*\}", "set-by-the-operator", value)


def app_environment(service: str) -> dict[str, str]:
    return {name: interpolated(value) for name, value in services()[service]["environment"].items()}


# --- compose.yaml -------------------------------------------------------------------


def test_compose_has_every_service():
    assert set(services()) == {"postgres", "redis", "migrate", "app1", "app2", "proxy"}


@pytest.mark.parametrize("service", IMAGE_SERVICES)
def test_app_services_run_the_image_built_from_deploy_dockerfile(service):
    build = services()[service]["build"]
    context = (DEPLOY / build["context"]).resolve()
    assert context == PROJECT_ROOT
    assert (context / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    # One image name for all three, so compose builds it once and they run the same code.
    assert {services()[name]["image"] for name in IMAGE_SERVICES} == {services()[service]["image"]}


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_start_after_a_successful_migration(service):
    depends_on = services()[service]["depends_on"]
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"
    for backing in ("postgres", "redis"):
        assert depends_on[backing]["condition"] == "service_healthy"
        # service_healthy never comes true for a service without a health check.
        assert services()[backing]["healthcheck"]["test"]


def test_migrate_runs_vibechat_migrate_once_against_a_healthy_postgres():
    migrate = services()["migrate"]
    assert migrate["command"] == ["vibechat", "migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"


@pytest.mark.parametrize("service", IMAGE_SERVICES)
def test_app_services_use_the_postgres_and_redis_services(service):
    env = app_environment(service)
    database = urlsplit(env["VIBECHAT_DATABASE_URL"])
    postgres = services()["postgres"]["environment"]
    assert database.scheme == "postgresql+asyncpg"
    assert database.hostname == "postgres"
    assert database.username == postgres["POSTGRES_USER"]
    assert database.path == "/" + postgres["POSTGRES_DB"]
    redis = urlsplit(env["VIBECHAT_REDIS_URL"])
    assert (redis.scheme, redis.hostname, redis.port) == ("redis", "redis", 6379)


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_share_a_secret_key_the_operator_must_set(service):
    # `:?` makes compose refuse to start without it, instead of each container
    # generating a key of its own (cookies from one would fail on the other).
    assert services()[service]["environment"]["VIBECHAT_SECRET_KEY"].startswith(
        "${VIBECHAT_SECRET_KEY:?"
    )


@pytest.mark.parametrize("service", IMAGE_SERVICES)
def test_app_service_settings_are_real_and_valid(service):
    env = app_environment(service)
    assert set(env) <= SETTING_NAMES
    referenced = set(re.findall(r"VIBECHAT_[A-Z_]+", json.dumps(services()[service])))
    assert referenced <= SETTING_NAMES
    settings = load_settings(env)  # raises ConfigError on a value the app refuses
    check_workers(settings)
    assert settings.proxy_hops == 1  # Caddy, and nothing else, in front


def test_the_proxy_gets_only_variables_its_caddyfile_reads():
    proxy = services()["proxy"]
    read_by_caddy = set(re.findall(r"\{\$([A-Z_]+)", read(DEPLOY / "Caddyfile")))
    assert set(proxy["environment"]) == read_by_caddy
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert {"80:80", "443:443"} <= set(proxy["ports"])


# --- Caddyfile ----------------------------------------------------------------------


def caddy_reverse_proxy() -> tuple[list[str], str]:
    """The upstreams on the reverse_proxy line, and the text of its block."""
    text = read(DEPLOY / "Caddyfile")
    match = re.search(r"^\s*reverse_proxy ([^{\n]+)\{(.*?)^\s*\}", text, re.MULTILINE | re.DOTALL)
    assert match, "no reverse_proxy block in deploy/Caddyfile"
    return match.group(1).split(), match.group(2)


def test_caddy_balances_over_both_app_services_on_the_image_port():
    upstreams, block = caddy_reverse_proxy()
    port = dockerfile_env()["VIBECHAT_PORT"]
    assert upstreams == [f"{service}:{port}" for service in APP_SERVICES]
    assert re.search(r"^\s*lb_policy \S+", block, re.MULTILINE)


def test_caddy_and_the_image_health_check_a_route_the_app_has(tmp_path):
    _, block = caddy_reverse_proxy()
    (caddy_path,) = re.findall(r"^\s*health_uri (\S+)", block, re.MULTILINE)
    image_path = re.search(r"http://127\.0\.0\.1:%s(/[^'\"]*)", exec_form("HEALTHCHECK")[-1])
    assert image_path and image_path.group(1) == caddy_path
    app = create_app(app_config("sqlite+aiosqlite:///unused.sqlite3", tmp_path), testing=True)
    assert caddy_path in {rule.rule for rule in app.url_map.iter_rules()}


def test_caddy_serves_the_configured_domain():
    assert re.search(r"^\{\$VIBECHAT_DOMAIN:localhost\} \{", read(DEPLOY / "Caddyfile"), re.M)


# --- Dockerfile ---------------------------------------------------------------------


def test_dockerfile_builds_in_two_stages_on_one_base_image():
    bases = [arguments.split()[0] for keyword, arguments in dockerfile() if keyword == "FROM"]
    # The venv is copied from the builder: its python symlink needs the same base.
    assert len(bases) >= 2
    assert set(bases) == {"python:3.11-slim"}
    assert any(
        keyword == "COPY" and arguments.startswith("--from=builder /opt/venv")
        for keyword, arguments in final_stage()
    )


def test_dockerfile_runs_as_a_user_other_than_root():
    users = [arguments for keyword, arguments in final_stage() if keyword == "USER"]
    assert users
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_dockerfile_health_check_uses_python_not_curl():
    healthcheck = exec_form("HEALTHCHECK")
    assert healthcheck[0] == "python"
    assert "urllib" in healthcheck[-1] and "/healthz" in healthcheck[-1]


def test_dockerfile_copies_every_folder_the_app_reads_from_the_project_root():
    # The builder needs every folder the wheel carries (pyproject.toml maps templates/,
    # static/ and migrations/ into the package), builds the wheel and installs it.
    copied = set()
    for keyword, arguments in dockerfile():
        if keyword == "COPY" and not arguments.startswith("--from"):
            copied.update(source.rstrip("/") for source in arguments.split()[:-1])
    readme = tomllib.loads(read(PROJECT_ROOT / "pyproject.toml"))["project"]["readme"]
    needed = {"pyproject.toml", readme, "vibechat", "templates", "static", "migrations"}
    assert needed <= copied
    runs = [arguments for keyword, arguments in dockerfile() if keyword == "RUN"]
    assert any("pip wheel" in run and "/opt/venv/bin/pip install /wheels/" in run for run in runs)
    assert not any("pip install -e" in run or "--editable" in run for run in runs)
    # The runtime gets the installed venv, not the source the wheel was built from.
    assert [arguments for keyword, arguments in final_stage() if keyword == "COPY"] == [
        "--from=builder /opt/venv /opt/venv"
    ]
    ignored = [line for line in read(PROJECT_ROOT / ".dockerignore").splitlines() if line]
    ignored = [pattern for pattern in ignored if not pattern.startswith("#")]
    assert [(name, p) for name in needed for p in ignored if fnmatch.fnmatch(name, p)] == []


def test_dockerfile_settings_are_real_and_valid():
    env = dockerfile_env()
    mentioned = set(re.findall(r"VIBECHAT_[A-Z_]+", read(DEPLOY / "Dockerfile")))
    assert mentioned <= SETTING_NAMES
    settings = load_settings({k: v for k, v in env.items() if k.startswith("VIBECHAT_")})
    assert settings.host == "0.0.0.0"  # noqa: S104 - reachable from outside the container
    assert ("EXPOSE", str(settings.port)) in final_stage()
    assert any(
        keyword == "VOLUME" and settings.instance_path in arguments.split()
        for keyword, arguments in final_stage()
    )


# --- the same commands everywhere ---------------------------------------------------


def procfile() -> dict[str, str]:
    lines = read(PROJECT_ROOT / "Procfile").splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def test_image_and_procfile_run_the_commands_the_readme_documents():
    readme = read(PROJECT_ROOT / "README.md")
    serve, migrate = exec_form("CMD"), services()["migrate"]["command"]
    assert serve == ["vibechat", "serve"]
    assert migrate == shlex.split(procfile()["release"]) == ["vibechat", "migrate"]
    for command in (serve, migrate):
        assert f"`{' '.join(command)}`" in readme
        with pytest.raises(SystemExit) as exit_info:
            cli.main([command[1], "--help"])
        assert exit_info.value.code == 0


def test_procfile_web_is_vibechat_serve_on_the_platforms_port():
    """One way to start the server everywhere: `vibechat serve` checks the settings,
    sets up metrics for several workers and execs hypercorn with our config."""
    web = shlex.split(procfile()["web"])
    assert web[-2:] == ["vibechat", "serve"]
    assert "VIBECHAT_HOST=0.0.0.0" in web
    assert "VIBECHAT_PORT=${PORT:-8000}" in web


# --- the GitHub workflow ------------------------------------------------------------


def steps(job: str) -> str:
    return "\n".join(step.get("run", "") for step in workflow()["jobs"][job]["steps"])


def test_workflow_runs_on_push_and_pull_request():
    triggers = workflow().get("on", workflow().get(True))  # YAML 1.1 reads `on` as true
    assert {"push", "pull_request"} <= set(triggers)


def test_workflow_check_job_has_the_services_the_tests_expect():
    job = workflow()["jobs"]["check"]
    postgres, redis = job["services"]["postgres"], job["services"]["redis"]
    assert postgres["image"] == "postgres:16"
    assert postgres["env"] == {"POSTGRES_HOST_AUTH_METHOD": "trust", "POSTGRES_DB": "test"}
    assert postgres["ports"] == ["5432:5432"]
    assert "--health-cmd" in postgres["options"]
    assert redis["image"] == "redis:7"
    assert redis["ports"] == ["6379:6379"]


def test_workflow_check_job_runs_ci_run_with_the_audit_required():
    job = workflow()["jobs"]["check"]
    assert "bash .ci/run" in steps("check").splitlines()
    assert job["env"]["CI"] == "true"
    assert job["env"]["VIBECHAT_REQUIRE_AUDIT"] == "1"
    assert "VIBECHAT_REQUIRE_AUDIT" in read(PROJECT_ROOT / "tools" / "audit.py")


def test_workflow_image_job_builds_the_dockerfile_and_runs_both_commands():
    run = steps("image")
    assert "docker build -f deploy/Dockerfile" in run
    assert "vibechat --help" in run
    assert re.search(r"docker run --rm -v \S+:/data \S+ vibechat migrate", run)
    assert "docker compose -f deploy/compose.yaml up -d" in run


def test_deploy_doc_uses_the_compose_file_that_exists():
    doc = read(PROJECT_ROOT / "docs" / "deploy.md")
    assert "docker compose -f deploy/compose.yaml up -d" in doc
    assert "## What was not run here" in doc
