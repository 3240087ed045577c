"""The Docker deployment: docker-compose.yml is valid, refuses to start without the
secrets, and runs one image with one environment for the app services, with exactly one
celery beat.

Needs a Compose CLI (Debian's docker-compose, which bin/install_browser installs, or the
Docker Compose v2 plugin) but no Docker engine and no database. Under CI=true a missing
CLI fails these tests; elsewhere they are skipped.
"""

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"

SECRETS = {
    "SECRET_KEY": "compose-test-secret-key",
    "FIELD_ENCRYPTION_KEYS": "compose-test-field-key",
    "BLIND_INDEX_KEY": "compose-test-blind-index-key",
}
REQUIRED_SERVICES = {"postgres", "redis", "mailpit", "migrate", "web", "worker", "beat"}
APP_SERVICES = ("migrate", "web", "worker", "beat")
LONG_RUNNING_APP_SERVICES = ("web", "worker", "beat")


def _compose_cli():
    """The Compose command line, or None: docker-compose first, then `docker compose`."""
    path = shutil.which("docker-compose")
    if path:
        return [path]
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return [docker, "compose"]
    return None


def _require_compose_cli():
    cli = _compose_cli()
    if cli is None:
        reason = (
            "no Compose CLI: install Debian's docker-compose package "
            "(bin/install_browser does so as root) or the Docker Compose v2 plugin"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return cli


def _run_compose(tmp_path, *args, env):
    """Run Compose on the project's file, isolated from the host's environment and from
    a local .env (an empty env file stands in), with exactly the variables in `env`."""
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    command = [
        *_require_compose_cli(),
        "--env-file",
        str(empty_env_file),
        "--project-directory",
        str(ROOT),
        "-f",
        str(COMPOSE_FILE),
        *args,
    ]
    base_env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(tmp_path)}
    return subprocess.run(
        command,
        env={**base_env, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _command_words(service):
    command = service.get("command") or []
    return shlex.split(command) if isinstance(command, str) else [str(w) for w in command]


def _assert_stack(services):
    """What both the raw file and Compose's rendered config must show."""
    assert REQUIRED_SERVICES <= set(services), sorted(services)

    # Exactly one beat: one service running `celery beat`, not scaled, and no worker
    # with an embedded beat (-B/--beat).
    beats = [name for name, svc in services.items() if "beat" in _command_words(svc)]
    assert beats == ["beat"]
    assert (services["beat"].get("deploy") or {}).get("replicas", 1) == 1
    for name, svc in services.items():
        words = _command_words(svc)
        if "worker" in words:
            assert "-B" not in words and "--beat" not in words, name

    # One image and one build for every app service; one environment for the
    # long-running ones. Only `migrate` differs: it connects as the owner role.
    first = services[APP_SERVICES[0]]
    assert first.get("build") and first.get("image")
    for name in APP_SERVICES[1:]:
        svc = services[name]
        assert svc.get("build") == first["build"], name
        assert svc.get("image") == first["image"], name
    web_env = services["web"]["environment"]
    for name in LONG_RUNNING_APP_SERVICES:
        assert services[name]["environment"] == web_env, name
    # Row-level security: the app connects as the application role, migrations as the
    # owner, who also creates the roles first.
    assert web_env["DATABASE_URL"].startswith("postgres://recovery_app:")
    migrate_env = services["migrate"]["environment"]
    assert not migrate_env["DATABASE_URL"].startswith("postgres://recovery_app:")
    assert "setup_db_roles" in " ".join(_command_words(services["migrate"]))

    env = web_env
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert env["DATABASE_URL"].startswith("postgres://")
    assert "@postgres:5432/" in env["DATABASE_URL"]
    assert env["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert env["EMAIL_HOST"] == "mailpit" and str(env["EMAIL_PORT"]) == "1025"
    assert "ALLOWED_HOSTS" in env and "PUBLIC_BASE_URL" in env

    # The app waits for a successful migration.
    for name in LONG_RUNNING_APP_SERVICES:
        depends = services[name].get("depends_on")
        assert isinstance(depends, dict), name
        condition = (depends.get("migrate") or {}).get("condition")
        assert condition == "service_completed_successfully", name

    web = services["web"]
    assert any(str(p).endswith("8000:8000") or p == 8000 for p in _ports(web))
    assert any("/healthz" in str(word) for word in web["healthcheck"]["test"])
    assert any("pg_isready" in str(w) for w in services["postgres"]["healthcheck"]["test"])
    assert services["redis"].get("healthcheck")


def _ports(service):
    """Port entries as strings/ints, whether short ("8000:8000") or long syntax."""
    ports = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            ports.append(f"{entry.get('published')}:{entry.get('target')}")
        else:
            ports.append(entry)
    return ports


def test_compose_file_structure():
    """The raw file (YAML anchors resolved by PyYAML): no Compose CLI needed."""
    config = yaml.safe_load(COMPOSE_FILE.read_text())
    services = config["services"]
    _assert_stack(services)

    # Secrets are never written in the file: each one is a mandatory ${NAME:?...}.
    env = services["web"]["environment"]
    for name in SECRETS:
        assert env[name].startswith("${" + name + ":?"), name


def test_compose_config_is_valid(tmp_path):
    result = _run_compose(tmp_path, "config", "-q", env=SECRETS)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_compose_refuses_to_start_without_a_secret(tmp_path, missing):
    env = {name: value for name, value in SECRETS.items() if name != missing}
    result = _run_compose(tmp_path, "config", "-q", env=env)
    assert result.returncode != 0
    assert missing in result.stdout + result.stderr


def test_rendered_config_runs_one_image_and_one_beat(tmp_path):
    result = _run_compose(tmp_path, "config", env=SECRETS)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    _assert_stack(services)
    # The secrets come from the environment, untouched.
    for name in APP_SERVICES:
        env = services[name]["environment"]
        for key, value in SECRETS.items():
            assert env[key] == value, (name, key)
