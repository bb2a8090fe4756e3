"""Upgrade a running gunicorn without refusing a request: USR2, wait until the new workers answer, TERM the old master.

gunicorn's USR2 makes the master fork and exec the same command line: a new master that loads
the code and corpus now on disk (with --preload too) and starts its workers on the same listening
socket, beside the old ones. Once every new worker has answered /readyz, SIGTERM to the old master
stops its workers gracefully: they finish what they accepted and answer a request already on a
kept-alive connection with "Connection: close"; new connections only reach the new workers. If
the new master dies or its workers never answer, it is stopped and the old one keeps serving.

Linux only (it reads /proc), run on the server's machine as the server's user:
    faqbot upgrade --pid /run/faqbot/gunicorn.pid --port $PORT
"""
from __future__ import annotations

import http.client
import os
import signal
import time
from pathlib import Path
from typing import Callable


class UpgradeError(RuntimeError):
    """The upgrade did not happen; the old master is still serving."""


def children(pid: int) -> list[int]:
    """The pids whose parent is pid."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:  # the name may hold spaces and ')'
                found.append(int(entry.name))
    return sorted(found)


def alive(pid: int) -> bool:
    """Tell whether pid runs (a zombie, exited but not yet reaped, does not count)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def environ(pid: int) -> dict[str, str]:
    """The environment a process was started (exec'd) with."""
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.decode("utf-8", "replace").partition("=") for item in raw.split(b"\0") if item)
    return {key: value for key, _, value in pairs}


def socket_owner(server_port: int, client_port: int, pids: list[int]) -> int | None:
    """Which of pids holds the server side of the loopback connection client_port -> server_port."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote = fields[1], fields[2]
            if int(local.rsplit(":", 1)[1], 16) == server_port and int(remote.rsplit(":", 1)[1], 16) == client_port:
                inodes.add(f"socket:[{fields[9]}]")
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) in inodes:
                    return pid
            except OSError:
                continue
    return None


def probe(host: str, port: int, workers: list[int]) -> int | None:
    """GET /readyz on a new connection; return which of workers answered it with 200, if one did."""
    conn = http.client.HTTPConnection(host, port, timeout=5)
    try:
        conn.request("GET", "/readyz")
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            return None
        # The answer came on a kept-alive connection (gunicorn's default): the worker still holds it.
        return socket_owner(port, conn.sock.getsockname()[1], workers)
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def wait_for(check: Callable[[], object], seconds: float, step: float = 0.05):
    """Poll check until it returns something true; return that, or None after seconds."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(step)
    return None


def upgrade(old: int, port: int, host: str = "127.0.0.1", timeout: float = 120.0, old_exit: float = 60.0,
            say: Callable[[str], None] = print) -> int:
    """Replace gunicorn master old (and its workers) by a new one running the code on disk; return its pid.

    Raises UpgradeError, leaving the old master serving, when the new one does not get ready within timeout.
    """
    if not alive(old):
        raise UpgradeError(f"no process {old}")
    parent = environ(old).get("GUNICORN_PID")
    if parent and parent.isdigit() and _ppid(old) == int(parent) and alive(int(parent)):
        raise UpgradeError(f"an earlier upgrade is not finished: the master before it ({parent}) still runs")
    workers_before = len(children(old))
    started = time.monotonic()
    os.kill(old, signal.SIGUSR2)
    seen: set[int] = set()

    def new_master() -> int | None:
        for pid in children(old):
            if environ(pid).get("GUNICORN_PID") == str(old):
                seen.add(pid)
                return pid if alive(pid) else None
        if seen:
            raise UpgradeError(f"the new master ({', '.join(map(str, seen))}) exited: see the server's log; "
                               f"the old one ({old}) keeps serving")
        return None

    new = wait_for(new_master, timeout)
    if new is None:
        raise UpgradeError(f"no new master appeared in {timeout:.0f} s; the old one ({old}) keeps serving")
    say(f"new master {new} started; waiting for its workers to answer /readyz")
    answered: set[int] = set()

    def ready() -> bool:
        if not alive(new):
            raise UpgradeError(f"the new master ({new}) exited: see the server's log; the old one ({old}) keeps serving")
        workers = children(new)
        owner = probe(host, port, workers) if workers else None
        if owner:
            answered.add(owner)
        return len(workers) >= max(workers_before, 1) and set(workers) <= answered

    try:
        if not wait_for(ready, max(timeout - (time.monotonic() - started), 1.0), step=0.02):
            raise UpgradeError(f"the new workers did not all answer /readyz in {timeout:.0f} s")
    except UpgradeError as error:
        if alive(new):
            os.kill(new, signal.SIGTERM)
            wait_for(lambda: not alive(new), old_exit)
        raise UpgradeError(f"{error}; the new master was stopped and the old one ({old}) keeps serving") from None
    say(f"{len(answered)} new workers ready after {time.monotonic() - started:.1f} s; stopping the old master {old}")
    os.kill(old, signal.SIGTERM)
    if wait_for(lambda: not alive(old), old_exit, step=0.1) is None:
        say(f"the old master {old} is still finishing requests after {old_exit:.0f} s")
    else:
        say(f"upgraded: master {new} serves, the old one exited ({time.monotonic() - started:.1f} s in all)")
    return new


def run(pidfile: str | None, master: int | None, port: int, host: str = "127.0.0.1", timeout: float = 120.0,
        say: Callable[[str], None] = print) -> int:
    """Upgrade the master named by gunicorn's --pid file or by its pid; with a file, wait until it names the new one."""
    if (pidfile is None) == (master is None):
        raise UpgradeError("give either --pid FILE or --master PID")
    if pidfile:
        try:
            master = int(Path(pidfile).read_text().strip())
        except (OSError, ValueError) as exc:
            raise UpgradeError(f"cannot read a pid from {pidfile}: {exc}") from None
    new = upgrade(master, port, host, timeout, say=say)
    # The new master writes FILE.2, and renames it to FILE within a second of the old master's exit.
    if pidfile and not wait_for(lambda: _reads(pidfile) == str(new), 5):
        say(f"note: {pidfile} does not name {new} yet (gunicorn renames {pidfile}.2 once the old master is gone)")
    return new


def _reads(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return 0
