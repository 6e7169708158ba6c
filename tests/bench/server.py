"""Run an app under gunicorn (2 sync workers, loopback) for one measurement.

The server gets its own process group, so stopping it (SIGTERM, then SIGKILL
after 10 s) ends the master and both workers and nothing else.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from clinic.config import PROJECT_ROOT

WORKERS = 2
READY_TIMEOUT = 30.0


@dataclass(frozen=True)
class Served:
    port: int
    group: int  # the process group: the master and its workers

    def cpu_seconds(self) -> float:
        return cpu_seconds(group=self.group)


def cpu_seconds(*, group: int | None = None, command_has: str = "") -> float:
    """CPU time (user + system) of the live processes in ``group`` or whose
    command line contains ``command_has``, from /proc (Linux; else 0)."""
    total = 0
    for fields, command in _processes():
        if group is not None and int(fields[2]) != group:
            continue
        if command_has and command_has not in command:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _processes() -> Iterator[tuple[list[str], str]]:
    """(stat fields after the command name, command line) of each process."""
    proc = Path("/proc")
    if not proc.is_dir():
        return
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        yield stat.rsplit(")", 1)[1].split(), command.decode(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(app: str, env: Mapping[str, str], *, ready_path: str
             ) -> Iterator[Served]:
    """Serve ``app`` (a gunicorn app spec) once it answers ``ready_path``."""
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "--workers", str(WORKERS),
        "--bind", f"127.0.0.1:{port}", "--no-control-socket",
        "--chdir", str(PROJECT_ROOT), "--log-level", "warning", app,
    ]
    with tempfile.NamedTemporaryFile("w+", prefix="bench-gunicorn-",
                                     suffix=".log") as log:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env={**os.environ, **env}, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            _wait_ready(process, port, ready_path, Path(log.name))
            yield Served(port, process.pid)
        finally:
            _stop(process)


def _wait_ready(process: subprocess.Popen[bytes], port: int, path: str,
                log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{log.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer in time:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the group (the master waits for its workers), SIGKILL if
    it is still there after 10 s; the master is reaped only after that, so
    the group id cannot have been reused meanwhile."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
