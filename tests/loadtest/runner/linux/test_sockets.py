"""Which processes listen on a port: /proc/net/tcp parsing, and a real listening socket."""

from __future__ import annotations

import os
import socket

from loadtest.runner.linux.sockets import listening_pids, parse_listening_inodes

PROC_NET_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:4718 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0000000000000000 100 0 0 10 0
   1: 0100007F:4718 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2222 1 0000000000000000 100 0 0 10 0
   2: 0100007F:4718 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 3333 1 0000000000000000 20 4 30 10 -1
   3: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4444 1 0000000000000000 100 0 0 10 0
"""


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
