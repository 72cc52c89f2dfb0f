"""TCP sockets on this machine: a free port to bind, and which processes listen on a port.

Listening sockets are found in /proc/net/tcp{,6} (state LISTEN) and matched to the socket inodes
in /proc/<pid>/fd.
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the kernel's pick for an ephemeral bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """`count` distinct ports nothing listens on right now (each probe held until all are picked, so the
    kernel cannot hand the same one out twice)."""
    with contextlib.ExitStack() as stack:
        probes = [stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) for _ in range(count)]
        for probe in probes:
            probe.bind((host, 0))
        return [int(probe.getsockname()[1]) for probe in probes]


_LISTEN = "0A"


def parse_listening_inodes(proc_net_tcp: str, port: int) -> set[int]:
    """Socket inodes in LISTEN state on `port`, from the text of /proc/net/tcp or tcp6."""
    inodes: set[int] = set()
    for line in proc_net_tcp.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10:
            continue
        local, state, inode = fields[1], fields[3], fields[9]
        if state == _LISTEN and int(local.rsplit(":", 1)[1], 16) == port:
            inodes.add(int(inode))
    return inodes


def listening_inodes(port: int) -> set[int]:
    """LISTEN socket inodes on `port` in this network namespace."""
    inodes: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            inodes |= parse_listening_inodes(Path(table).read_text(), port)
        except FileNotFoundError:
            continue
    return inodes


def socket_inodes(pid: int) -> set[int]:
    """Inodes of the sockets process `pid` holds open (empty if it is gone)."""
    inodes: set[int] = set()
    try:
        descriptors = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return inodes
    for descriptor in descriptors:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{descriptor}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def listening_pids(pids: list[int], port: int) -> set[int]:
    """The processes among `pids` that hold a listening socket on `port`."""
    listening = listening_inodes(port)
    return {pid for pid in pids if socket_inodes(pid) & listening}
