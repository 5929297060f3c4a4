"""What a local search exposes: every TCP socket its Ray processes listen on, during a search.

A real local search (``archsearch.launch`` on a private Ray instance, as ``archsearch
search`` starts one) runs in a child process. Once it has committed an evaluation, the
listening sockets of that process and all its descendants are read from ``/proc`` (no
psutil here): ``/proc/net/tcp{,6}`` gives the listening sockets by inode, and
``/proc/<pid>/fd`` says which process holds each. Then Ctrl-C ends the search, and every
Ray process must be gone soon after.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archsearch.store import load_results

ROOT = Path(__file__).resolve().parents[2]
SEARCH = """
import sys
from archsearch import Resources, launch
from scripts.fault_drills import tiny_spec
launch(tiny_spec(int(sys.argv[2])), Resources(storage=sys.argv[1], workers=1))
"""

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:  # gone meanwhile
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    return children


def descendants(root: int) -> list[int]:
    """``root`` and every process below it."""
    children, found, stack = _children(), [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def _address(field: str, v6: bool) -> tuple[str, int]:
    ip, port = field.split(":")
    raw = bytes.fromhex(ip)
    if v6:  # four little-endian 32-bit words
        raw = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
        return socket.inet_ntop(socket.AF_INET6, raw), int(port, 16)
    return socket.inet_ntop(socket.AF_INET, raw[::-1]), int(port, 16)


def listening_sockets(pids: list[int]) -> list[tuple[int, str, str, int]]:
    """``(pid, process name, address, port)`` of each listening TCP socket the processes hold."""
    by_inode = {}
    for table, v6 in (("tcp", False), ("tcp6", True)):
        path = Path(f"/proc/net/{table}")
        for line in path.read_text().splitlines()[1:] if path.exists() else []:
            fields = line.split()
            if fields[3] == "0A":  # TCP_LISTEN
                by_inode[int(fields[9])] = _address(fields[1], v6)
    found = []
    for pid in pids:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        scripts = [Path(arg).name for arg in argv[1:] if arg.endswith(".py")]
        name = scripts[0] if scripts and "python" in argv[0] else Path(argv[0]).name
        for fd in fds:
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            inode = int(link[8:-1]) if link.startswith("socket:[") else None
            if inode in by_inode:
                found.append((pid, name, *by_inode[inode]))
    return sorted(set(found), key=lambda row: (row[2], row[3]))


def is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds:g} s for {what}")
        time.sleep(0.2)


def _committed(url: str) -> bool:
    try:
        return len(load_results(url, run="job")) > 0
    except Exception:  # no store or no run yet
        return False


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
def test_a_local_search_listens_on_loopback_only_and_leaves_nothing_running(tmp_path):
    url = f"sqlite:///{tmp_path}/s.db"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("RAY_")  # as a user's shell would be; no cluster address
    }
    env["PYTHONPATH"] = str(ROOT)
    search = subprocess.Popen(
        [sys.executable, "-c", SEARCH, url, "40"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(lambda: _committed(url) or search.poll() is not None, 240, "a committed row")
        assert search.poll() is None, "the search ended before it could be looked at"
        pids = descendants(search.pid)
        sockets = listening_sockets(pids)
        print("\n".join(f"{pid:>7} {name:28s} {ip}:{port}" for pid, name, ip, port in sockets))
        assert len(pids) > 3 and sockets  # Ray's processes were seen, and they listen
        exposed = [row for row in sockets if not is_loopback(row[2])]
        assert exposed == [], f"listening beyond loopback: {exposed}"
        search.send_signal(signal.SIGINT)  # Ctrl-C: the in-flight evaluation commits, Ray stops
        search.wait(timeout=120)
        _wait_for(lambda: not any(map(_alive, pids)), 30, "Ray's processes to exit")
    finally:
        if search.poll() is None:
            search.kill()
