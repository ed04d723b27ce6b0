"""``rencai serve [--bind ADDR] [--workers N]``: the web server and a job worker beside it.

Runs gunicorn (``rencai.wsgi:application``; static files are served by WhiteNoise from
``STATIC_ROOT``, filled by ``rencai init``) and ``rencai worker`` as child processes with the
same environment, and supervises them: SIGTERM or SIGINT stops both cleanly (gunicorn finishes
the requests in hand, the worker the job in hand); if gunicorn stops, the worker is stopped
too; if the worker dies, it is started again after a pause. For a separate worker service
(systemd, another host) use ``--no-worker`` here and run ``rencai worker`` there.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management import get_commands
from django.core.management.base import BaseCommand, CommandError

logger = logging.getLogger("rencai.serve")

# No query strings (they may carry search terms, names or numbers) and no Referer (it carries
# them too): method, path, status, size, time.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
DEFAULT_BIND = "127.0.0.1:8000"


def default_workers() -> int:
    """Processes for the CPUs: with 4 threads each, 2 processes on 2 cores serve 8 requests at
    once, plenty for an office, and keep memory modest."""
    return min(max(os.cpu_count() or 1, 2), 8)


def gunicorn_argv(bind: str, workers: int, threads: int) -> list[str]:
    return [
        sys.executable, "-m", "gunicorn", "rencai.wsgi:application",
        "--bind", bind,
        "--workers", str(workers),
        "--worker-class", "gthread",
        "--threads", str(threads),
        "--timeout", "120",
        "--graceful-timeout", "30",
        "--access-logfile", "-",
        "--access-logformat", ACCESS_LOG_FORMAT,
        "--error-logfile", "-",
        "--no-control-socket",
    ]


def worker_argv() -> list[str]:
    return [sys.executable, "-m", "rencai.cli", "worker"]


@dataclass
class Child:
    name: str
    argv: list[str]
    stop_timeout: float
    restart: bool = False
    process: subprocess.Popen | None = None
    restarts: list[float] = field(default_factory=list)
    next_start: float = 0.0

    def start(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(self.argv, env=env)  # noqa: S603  (our own commands)
        logger.info("started %s (pid %s)", self.name, self.process.pid)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Supervisor:
    """Runs the server child and helper children; stops all of them when one must stop.

    ``server`` is the child whose end ends the whole; ``helpers`` are restarted if they die.
    """

    RESTART_DELAYS = (1, 5, 15, 60)

    def __init__(self, server: Child, helpers: list[Child], env: dict[str, str] | None = None):
        self.server = server
        self.helpers = helpers
        self.env = dict(os.environ if env is None else env)
        self.stopping = threading.Event()
        self.poll_interval = 0.2

    @property
    def children(self) -> list[Child]:
        return [self.server, *self.helpers]

    def stop(self, *args) -> None:
        self.stopping.set()

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self.stop)

    def run(self) -> int:
        """Start everything, wait until told to stop or the server ends; return an exit code."""
        exit_code = 0
        try:
            self.server.start(self.env)
            for helper in self.helpers:
                helper.start(self.env)
            while not self.stopping.wait(self.poll_interval):
                code = self.server.process.poll()
                if code is not None:
                    logger.warning("%s exited with status %s; stopping", self.server.name, code)
                    exit_code = code or 1
                    break
                for helper in self.helpers:
                    self._keep_alive(helper)
        finally:
            self.shutdown()
        return exit_code

    def _keep_alive(self, child: Child) -> None:
        if child.running or not child.restart:
            return
        now = time.monotonic()
        if child.next_start == 0.0:
            code = child.process.returncode if child.process else None
            child.restarts = [t for t in child.restarts if now - t < 600]
            delay = self.RESTART_DELAYS[min(len(child.restarts), len(self.RESTART_DELAYS) - 1)]
            logger.warning("%s exited with status %s; starting it again in %s s", child.name, code, delay)
            child.next_start = now + delay
        elif now >= child.next_start:
            child.restarts.append(now)
            child.next_start = 0.0
            child.start(self.env)

    def shutdown(self) -> None:
        """SIGTERM to every running child, wait for each up to its timeout, then SIGKILL."""
        for child in self.children:
            if child.running:
                child.process.terminate()
        for child in self.children:
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=child.stop_timeout)
            except subprocess.TimeoutExpired:
                logger.warning("%s did not stop within %s s; killing it", child.name, child.stop_timeout)
                child.process.kill()
                child.process.wait()


class Command(BaseCommand):
    help = "Serve rencai with gunicorn, with a background-job worker beside it."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("RENCAI_BIND") or DEFAULT_BIND,
                            help=f"address:port to listen on (default {DEFAULT_BIND})")
        parser.add_argument("--workers", type=int, default=default_workers(),
                            help="gunicorn worker processes (default: the CPU count, at least 2)")
        parser.add_argument("--threads", type=int, default=4, help="threads per worker process (default 4)")
        parser.add_argument("--no-worker", action="store_false", dest="with_worker",
                            help="do not start a job worker (run `rencai worker` elsewhere)")
        parser.add_argument("--worker-stop-timeout", type=float, default=60.0,
                            help="seconds the job worker gets to finish its job when stopping (default 60)")

    def handle(self, *args, bind: str, workers: int, threads: int, with_worker: bool,
               worker_stop_timeout: float, **options):
        if workers < 1 or threads < 1:
            raise CommandError("--workers and --threads must be at least 1")
        self.check_static_files()
        server = Child("gunicorn", gunicorn_argv(bind, workers, threads), stop_timeout=40.0)
        helpers = []
        if with_worker:
            if "worker" in get_commands():
                helpers.append(Child("job worker", worker_argv(), stop_timeout=worker_stop_timeout, restart=True))
            else:
                self.stderr.write("warning: this version has no `rencai worker`; serving without a job worker")
        supervisor = Supervisor(server, helpers)
        supervisor.install_signal_handlers()
        self.stdout.write(f"Serving rencai on http://{bind}/ ({workers} processes x {threads} threads"
                          f"{', with a job worker' if helpers else ''}); Ctrl-C or SIGTERM stops.")
        self.stdout.flush()
        code = supervisor.run()
        if code:
            raise CommandError(f"gunicorn exited with status {code}", returncode=code)

    def check_static_files(self) -> None:
        backend = settings.STORAGES["staticfiles"]["BACKEND"]
        if "Manifest" in backend or backend.endswith("core.staticfiles.StaticFilesStorage"):
            if not (settings.STATIC_ROOT / "staticfiles.json").exists():
                raise CommandError("static files have not been collected: run `rencai init` first")
