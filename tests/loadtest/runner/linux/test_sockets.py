"""Which processes listen on a port (loadtest/runner/linux/sockets.py): /proc/net/tcp parsed, a real socket."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from loadtest.runner.linux.sockets import free_port, listening_pids, parse_listening_inodes

# /proc/net/tcp with two listeners on port 0x4718 (SO_REUSEPORT), a connection to it, and sshd on 22.
PROC_NET_TCP = (Path(__file__).resolve().parents[3] / "data" / "proc" / "net_tcp").read_text()


def test_only_listening_sockets_on_the_port() -> None:
    assert parse_listening_inodes(PROC_NET_TCP, 0x4718) == {1111, 2222}
    assert parse_listening_inodes(PROC_NET_TCP, 22) == {4444}
    assert parse_listening_inodes(PROC_NET_TCP, 80) == set()


def test_this_process_listening_for_real() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        port = server.getsockname()[1]
        assert listening_pids([os.getpid()], port) == set()
        server.listen()
        assert listening_pids([os.getpid()], port) == {os.getpid()}


def test_a_free_port_can_be_bound() -> None:
    port = free_port()
    with socket.socket() as server:
        server.bind(("127.0.0.1", port))
        assert server.getsockname()[1] == port
