"""The product under gunicorn for the server benchmarks (webhooks, portal): the
application role's database URL, the server's environment, start/stop, warm-up,
py-spy and the load average.

The server runs `recovery.wsgi` with `bench.settings_server` (the product's settings
and URLs plus the baseline `/bench/ok/`), as the application role under row-level
security like production, on a free local port.
"""

import os
import socket
import subprocess
import sys
import time

BASELINE_PATH = "/bench/ok/"
SETTINGS_MODULE = "bench.settings_server"


def app_database_url(url):
    """The application role's URL for the bench database (roles made when missing)."""
    from bench.runtime import BASE_DIR

    env = {**os.environ, "DATABASE_URL": url}
    script = str(BASE_DIR / "bin" / "setup_db_roles.py")
    roles = subprocess.run(
        [sys.executable, script, "--print-app-url"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    import psycopg2

    try:
        psycopg2.connect(roles).close()
    except psycopg2.OperationalError:
        subprocess.run([sys.executable, script], env=env, check=True)
    return roles


def collect_static(say=print):
    """The static files and their manifest for the bench settings' STATIC_ROOT (the
    server's pages fail without it, as production's would), rebuilt only when a source
    file is newer than the manifest. Run with those settings."""
    from django.conf import settings
    from django.contrib.staticfiles.finders import get_finders
    from django.core.management import call_command

    manifest = os.path.join(settings.STATIC_ROOT, "staticfiles.json")
    if os.path.exists(manifest):
        built = os.path.getmtime(manifest)
        newest = max(
            os.path.getmtime(storage.path(path))
            for finder in get_finders()
            for path, storage in finder.list([])
        )
        if newest <= built:
            return
    started = time.monotonic()
    call_command("collectstatic", interactive=False, verbosity=0)
    say(f"[setup] static files in {settings.STATIC_ROOT} ({time.monotonic() - started:.1f}s)")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(*, app_url, redis_url, conn_max_age=None, extra=None):
    """The environment of the app's own, minus test/debug switches, pointed at the
    bench database (as the application role), Redis and the bench settings."""
    env = {k: v for k, v in os.environ.items() if k not in ("RECOVERY_TESTING", "DEBUG")}
    env.update(extra or {})
    env.update(
        {"DJANGO_SETTINGS_MODULE": SETTINGS_MODULE, "DATABASE_URL": app_url, "REDIS_URL": redis_url}
    )
    if conn_max_age is not None:
        env["CONN_MAX_AGE"] = str(conn_max_age)
    return env


def serve(env, *, workers, threads, log_path):
    """gunicorn on a free local port; returns (process, (host, port)) once it answers."""
    from bench.runtime import BASE_DIR

    port = free_port()
    args = [
        str(BASE_DIR / ".venv" / "bin" / "gunicorn"),
        "recovery.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--log-level",
        "warning",
        "--timeout",
        "60",
    ]
    if threads == 1:
        args += ["--worker-class", "sync"]
    log = open(log_path, "ab")  # noqa: SIM115 (the server writes to it until stopped)
    proc = subprocess.Popen(args, cwd=BASE_DIR, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({proc.returncode}); see {log_path}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(
                    f"GET {BASELINE_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Connection: close\r\n\r\n".encode()
                )
                if sock.recv(12).endswith(b"200"):
                    return proc, ("127.0.0.1", port)
        except OSError:
            pass
        time.sleep(0.2)
    proc.terminate()
    raise RuntimeError(f"gunicorn did not answer within 60 s; see {log_path}")


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def warm(address, raws, rounds=8):
    """Send each of `raws` (rendered requests) `rounds` times before the clock, so
    every worker has imported the views, templates and SDKs."""
    from bench.loadgen import _send

    for _ in range(rounds):
        for raw in raws:
            _send(address, raw() if callable(raw) else raw)


def py_spy(pid, path):
    """py-spy sampling gunicorn and its workers (collapsed stacks for a flame graph)."""
    from bench.runtime import BASE_DIR

    spy = subprocess.Popen(
        [
            str(BASE_DIR / ".venv" / "bin" / "py-spy"),
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--format",
            "raw",
            "--rate",
            "200",
            "--output",
            path,
            "--nonblocking",
        ]
    )
    time.sleep(1.5)  # py-spy attaches before the clock starts
    return spy


def load_average():
    return os.getloadavg()[0]
