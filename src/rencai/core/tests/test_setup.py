"""Set-up and running: ``rencai init`` (idempotent, the first administrator) and ``rencai serve``
(gunicorn and a job worker that start together and stop together)."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from io import StringIO

import pytest
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError

from rencai.core.management.commands.serve import Child, Supervisor
from rencai.core.models import OrgUnit, Region, User

PASSWORD_LINE = re.compile(r"password \(shown only now[^)]*\): (\S+)")


def _init(**options) -> str:
    out = StringIO()
    call_command("init", no_static=True, stdout=out, **options)
    return out.getvalue()


# --- init ------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_creates_the_first_system_administrator_once(monkeypatch):
    monkeypatch.delenv("RENCAI_ADMIN_PASSWORD", raising=False)
    output = _init()
    admin = User.objects.get(username="admin")
    assert [r.code for r in admin.roles.all()] == ["system_admin"]
    assert admin.is_active and admin.must_change_password and not admin.totp_enabled
    password = PASSWORD_LINE.search(output).group(1)
    assert admin.check_password(password)

    region = Region.objects.get(code="140802")
    OrgUnit.objects.create(name="盐湖区人才办", region=region)
    regions = Region.objects.count()
    again = _init()
    assert "a system administrator exists (admin)" in again
    assert not PASSWORD_LINE.search(again)
    assert User.objects.count() == 1
    assert Region.objects.count() == regions
    assert OrgUnit.objects.filter(name="盐湖区人才办").exists()
    admin.refresh_from_db()
    assert admin.check_password(password)


@pytest.mark.django_db
def test_it_takes_the_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("RENCAI_ADMIN_PASSWORD", "Yuncheng-Admin-2026!")
    output = _init()
    admin = User.objects.get(username="admin")
    assert admin.check_password("Yuncheng-Admin-2026!")
    assert not admin.must_change_password
    assert "Yuncheng-Admin-2026!" not in output


@pytest.mark.django_db
def test_it_refuses_a_weak_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("RENCAI_ADMIN_PASSWORD", "admin123")
    with pytest.raises(CommandError, match="password policy"):
        _init()
    assert not User.objects.exists()


def test_it_creates_no_administrator_when_one_exists(system_admin, monkeypatch):
    monkeypatch.delenv("RENCAI_ADMIN_PASSWORD", raising=False)
    output = _init()
    assert f"a system administrator exists ({system_admin.username})" in output
    assert not User.objects.filter(username="admin").exists()


def test_it_creates_a_new_administrator_when_the_only_one_is_disabled(system_admin, monkeypatch):
    monkeypatch.delenv("RENCAI_ADMIN_PASSWORD", raising=False)
    User.objects.filter(pk=system_admin.pk).update(is_active=False)
    User.objects.create_user("admin")  # the name is taken: the new account gets another
    _init()
    created = User.objects.get(username="admin2")
    assert created.is_active and created.roles.filter(code="system_admin").exists()


# --- serve: the supervisor ---------------------------------------------------------------------------
SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def _run_in_thread(supervisor: Supervisor) -> tuple[threading.Thread, list[int]]:
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(supervisor.run()), daemon=True)
    thread.start()
    return thread, result


def _wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def test_the_supervisor_stops_server_and_worker_together():
    server = Child("server", SLEEPER, stop_timeout=10)
    worker = Child("worker", SLEEPER, stop_timeout=10, restart=True)
    supervisor = Supervisor(server, [worker])
    thread, result = _run_in_thread(supervisor)
    _wait_for(lambda: server.running and worker.running)
    supervisor.stop()
    thread.join(timeout=20)
    assert result == [0]
    assert server.process.returncode == -signal.SIGTERM
    assert worker.process.returncode == -signal.SIGTERM


def test_the_supervisor_stops_the_worker_when_the_server_ends():
    server = Child("server", [sys.executable, "-c", "import time, sys; time.sleep(0.5); sys.exit(3)"], stop_timeout=10)
    worker = Child("worker", SLEEPER, stop_timeout=10, restart=True)
    thread, result = _run_in_thread(Supervisor(server, [worker]))
    thread.join(timeout=20)
    assert result == [3]
    assert worker.process.returncode == -signal.SIGTERM


def test_the_supervisor_restarts_a_worker_that_died():
    server = Child("server", SLEEPER, stop_timeout=10)
    worker = Child("worker", [sys.executable, "-c", "import sys; sys.exit(1)"], stop_timeout=10, restart=True)
    supervisor = Supervisor(server, [worker])
    supervisor.RESTART_DELAYS = (0,)
    thread, _result = _run_in_thread(supervisor)
    _wait_for(lambda: len(worker.restarts) >= 2)
    supervisor.stop()
    thread.join(timeout=20)
    assert server.process.returncode == -signal.SIGTERM


def test_the_supervisor_kills_a_child_that_ignores_sigterm():
    stubborn = [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(120)"]
    server = Child("server", SLEEPER, stop_timeout=10)
    worker = Child("worker", stubborn, stop_timeout=1)
    supervisor = Supervisor(server, [worker])
    thread, _result = _run_in_thread(supervisor)
    _wait_for(lambda: server.running and worker.running)
    time.sleep(0.5)  # let it install its handler
    supervisor.stop()
    thread.join(timeout=20)
    assert worker.process.returncode == -signal.SIGKILL


# --- serve: for real -----------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310  (loopback only)
        return response.status, response.read().decode("utf-8", "replace")


def test_serve_answers_http_and_stops_on_sigterm(tmp_path):
    env = {
        **os.environ,
        "RENCAI_VAR_DIR": str(tmp_path / "var"),
        "RENCAI_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "RENCAI_ADMIN_PASSWORD": "Serve-Test-2026!",
    }
    env.pop("RENCAI_PLAIN_STATIC", None)  # production static files: hashed, compressed, collected by init
    rencai = [sys.executable, "-m", "rencai.cli"]
    subprocess.run([*rencai, "init"], env=env, check=True, capture_output=True, timeout=300)
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as log_file:
        server = subprocess.Popen(
            [*rencai, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "2"],
            env=env, stdout=log_file, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, page = _get(f"http://127.0.0.1:{port}/accounts/login/?next=/secret-search-term")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError(log.read_text()) from None
                time.sleep(0.3)
        assert status == 200
        stylesheet = re.search(r'href="(/static/rencai/rencai\.[0-9a-f]{12}\.css)"', page).group(1)
        assert _get(f"http://127.0.0.1:{port}{stylesheet}")[0] == 200
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=90) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    output = log.read_text()
    assert "GET /accounts/login/ HTTP/1.1" in output
    assert "secret-search-term" not in output  # the access log leaves query strings out
    if "worker" in get_commands():
        pid = int(re.search(r"started job worker \(pid (\d+)\)", output).group(1))
        _wait_for(lambda: not os.path.exists(f"/proc/{pid}") or "Z" in _proc_state(pid), timeout=10)
    with pytest.raises(OSError):
        _get(f"http://127.0.0.1:{port}/accounts/login/")


def _proc_state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0]
    except OSError:
        return "Z"
