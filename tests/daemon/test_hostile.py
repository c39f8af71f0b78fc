"""Hostile and broken clients on virthvd's socket, spoken to in raw bytes: garbage, truncated
and oversized packets, wrong program or version, undecodable payloads, protocol-order
violations, clients that never read, and 1000 connections at once. Each case checks what the
bad client gets (an RPC error reply or a closed connection, per libvirt-rpc.md 1.9) and that the
daemon keeps serving a well-behaved virsh."""

import os
import random
import resource
import select
import socket
import struct
import threading
import time

import pytest

REMOTE = 0x20008086
KEEPALIVE = 0x6B656570
CALL, REPLY, MESSAGE, STREAM = 0, 1, 2, 3
OK, ERROR = 0, 1


def packet(proc, payload=b"", prog=REMOTE, vers=1, type_=CALL, serial=1, status=OK):
    return struct.pack(">IIIiiIi", 28 + len(payload), prog, vers, proc, type_, serial,
                       status) + payload


def xdr_string(s):
    b = s.encode()
    return struct.pack(">I", len(b)) + b + b"\0" * (-len(b) % 4)


def recv_exact(s, n, timeout):
    data = b""
    deadline = time.time() + timeout
    while len(data) < n:
        left = deadline - time.time()
        if left <= 0:
            raise TimeoutError("no reply")
        r, _, _ = select.select([s], [], [], left)
        if not r:
            continue
        chunk = s.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def recv_packet(s, timeout=5):
    """(prog, vers, proc, type, serial, status, payload), or None at EOF."""
    head = recv_exact(s, 4, timeout)
    if head is None:
        return None
    (length,) = struct.unpack(">I", head)
    rest = recv_exact(s, length - 4, timeout)
    if rest is None:
        return None
    return struct.unpack(">IIiiIi", rest[:24]) + (rest[24:],)


def closed_by_peer(s, timeout=5):
    """True if the daemon closes the connection (possibly after sending something)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        r, _, _ = select.select([s], [], [], 0.1)
        if r:
            try:
                if not s.recv(65536):
                    return True
            except ConnectionResetError:
                return True
    return False


def error_of(payload):
    """(code, message) of a remote_error payload."""
    code, _domain, present = struct.unpack(">iiI", payload[:12])
    assert present == 1
    (n,) = struct.unpack(">I", payload[12:16])
    return code, payload[16:16 + n].decode()


def call(s, proc, payload=b"", serial=7, **kw):
    s.sendall(packet(proc, payload, serial=serial, **kw))
    p = recv_packet(s)
    assert p is not None, "connection closed instead of a reply"
    assert p[3] == REPLY and p[4] == serial, p
    return p


def open_conn(daemon):
    s = daemon.connect()
    assert call(s, 66)[5] == OK  # AUTH_LIST
    assert call(s, 1, struct.pack(">I", 1) + xdr_string("hv:///system") + b"\0" * 4)[5] == OK
    return s


def still_serving(daemon):
    assert daemon.alive(), daemon.log_text()
    assert daemon.virsh("list", "--all").returncode == 0


def ping_pong(s):
    s.sendall(packet(1, prog=KEEPALIVE, type_=MESSAGE, serial=0))
    p = recv_packet(s)
    # A client that negotiated keepalive may get the server's own PING first (it was silent
    # for the interval just before): that one is answered, then comes our PONG.
    while p is not None and p[:6] == (KEEPALIVE, 1, 1, MESSAGE, 0, OK):
        s.sendall(packet(2, prog=KEEPALIVE, type_=MESSAGE, serial=0))
        p = recv_packet(s)
    assert p[:6] == (KEEPALIVE, 1, 2, MESSAGE, 0, OK)


def test_keepalive_and_handshake_errors(daemon):
    s = daemon.connect()
    ping_pong(s)
    # before CONNECT_OPEN only the handshake calls work
    p = call(s, 3)
    assert p[5] == ERROR
    assert error_of(p[6]) == (1, "internal error: hypervisor connection not open")
    p = call(s, 1, struct.pack(">I", 1) + xdr_string("qemu:///system") + b"\0" * 4)
    assert p[5] == ERROR and error_of(p[6])[0] == 5  # VIR_ERR_NO_CONNECT
    assert call(s, 1, struct.pack(">I", 1) + xdr_string("hv:///system") + b"\0" * 4)[5] == OK
    p = call(s, 1, struct.pack(">I", 1) + xdr_string("hv:///system") + b"\0" * 4)
    assert error_of(p[6]) == (1, "internal error: connection already open")
    p = call(s, 3)
    assert p[5] == OK and p[6] == xdr_string("hv")
    s.close()
    still_serving(daemon)


def test_rpc_errors_keep_the_connection(daemon):
    s = open_conn(daemon)
    # unknown and negative procedures
    for proc in (9999, -1, 8, 2 ** 31 - 1):
        p = call(s, proc)
        assert p[5] == ERROR
        code, msg = error_of(p[6])
        assert code == 3, msg
        assert msg == ("this function is not supported by the connection driver: "
                       "unknown procedure: %d" % proc)
    # wrong program and wrong version: an RPC error naming them
    p = call(s, 1, prog=0x11111111)
    assert p[0] == 0x11111111 and error_of(p[6]) == (39, "Cannot find program 286331153 version 1")
    p = call(s, 1, vers=2)
    assert error_of(p[6]) == (39, "Cannot find program %d version 2" % REMOTE)
    # a CALL whose status is not OK
    p = call(s, 3, status=ERROR)
    assert error_of(p[6])[0] == 39
    # undecodable payloads: a string longer than the packet, a typed param of unknown type,
    # an array count over the protocol's bound, a truncated struct
    p = call(s, 23, struct.pack(">I", 0x7FFFFFFF))  # LOOKUP_BY_NAME
    assert error_of(p[6])[0] == 39
    dom = xdr_string("x") + b"\0" * 16 + struct.pack(">i", -1)
    p = call(s, 58, dom + struct.pack(">I", 1) + xdr_string("weight") + struct.pack(">ii", 99, 1))
    assert error_of(p[6])[0] == 39
    p = call(s, 344, struct.pack(">I", 100000) + b"\0" * 64)  # GET_ALL_DOMAIN_STATS
    assert error_of(p[6])[0] == 39
    p = call(s, 16, b"\0\0")  # DOMAIN_GET_INFO with half a length word
    assert error_of(p[6])[0] == 39
    # a lookup of a domain that is not there is an ordinary driver error
    p = call(s, 23, xdr_string("nosuch"))
    assert error_of(p[6]) == (42, "Domain not found: no domain with matching name 'nosuch'")
    # stream data for a stream that does not exist is ignored
    s.sendall(packet(201, b"data", type_=STREAM, serial=99, status=2))
    ping_pong(s)
    p = call(s, 3)
    assert p[5] == OK
    s.close()
    still_serving(daemon)


@pytest.mark.parametrize("bad", [
    struct.pack(">I", 0),  # shorter than its own length word
    struct.pack(">I", 27),  # shorter than length word + header
    struct.pack(">I", 4 + 32 * 1024 * 1024 + 1),  # over the 32 MiB limit
    struct.pack(">I", 0xFFFFFFFF) + b"x" * 100,
    packet(1, type_=REPLY),  # a client never sends replies
    packet(1, type_=MESSAGE),  # nor remote-program messages
    packet(1, type_=4),  # CALL_WITH_FDS: descriptors we would never read
    packet(1, prog=0x11111111, type_=MESSAGE),  # non-call packet of an unknown program
    packet(1, prog=KEEPALIVE, type_=CALL),
], ids=["len0", "len27", "huge", "maxint", "reply", "message", "fds", "foreign-msg", "ka-call"])
def test_protocol_violations_close_the_client(daemon, bad):
    good = open_conn(daemon)
    s = daemon.connect()
    s.sendall(bad)
    assert closed_by_peer(s), "the daemon kept a client that sent %r" % bad[:32]
    s.close()
    ping_pong(good)  # other clients are unaffected
    good.close()
    still_serving(daemon)


def test_random_bytes(daemon):
    rng = random.Random(20261126)
    for i in range(20):
        s = daemon.connect()
        s.sendall(bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 4096))))
        if i % 2:
            s.shutdown(socket.SHUT_WR)
        time.sleep(0.02)
        s.close()
    still_serving(daemon)


def test_truncated_packet_does_not_block_others(daemon):
    s = daemon.connect()
    s.sendall(packet(66)[:20])  # a length word and part of a header, then silence
    t = daemon.connect()
    t.sendall(struct.pack(">I", 1000) + b"\0" * 500)  # half of a 1000-byte packet
    still_serving(daemon)
    ping_pong(open_conn(daemon))
    # the rest arrives late: the packet is whole and gets its reply
    s.sendall(packet(66)[20:])
    p = recv_packet(s)
    assert p[2] == 66 and p[5] == OK and p[6] == struct.pack(">Ii", 1, 0)
    s.close()
    t.close()
    still_serving(daemon)


def test_client_that_never_reads(daemon):
    """A client queues calls without reading replies: the daemon stops reading it once its
    output backs up, and keeps serving everyone else."""
    s = open_conn(daemon)
    s.setblocking(False)
    one = packet(3, serial=5)
    batch = one * 4096
    sent = 0
    deadline = time.time() + 20
    while time.time() < deadline and sent < 64 * 1024 * 1024:
        try:
            sent += s.send(batch)
        except BlockingIOError:
            break  # the daemon stopped reading us: backpressure works
    assert time.time() < deadline and sent < 64 * 1024 * 1024, sent
    still_serving(daemon)
    s.close()
    still_serving(daemon)


def test_thousand_connections(daemon):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    conns = []
    try:
        for _ in range(1000):
            conns.append(daemon.connect())
        for c in conns:
            c.sendall(packet(66, serial=3))
        for c in conns:
            p = recv_packet(c, timeout=20)
            assert p is not None and p[2] == 66 and p[4] == 3 and p[5] == OK
        still_serving(daemon)
    finally:
        for c in conns:
            c.close()
    still_serving(daemon)


def test_max_clients(daemon):
    daemon.stop()
    with open(daemon.conf, "a") as f:
        f.write("max_clients=3\n")
    daemon.start()
    conns = [daemon.connect() for _ in range(3)]
    for c in conns:
        ping_pong(c)
    extra = daemon.connect()
    assert closed_by_peer(extra)
    conns[0].close()
    time.sleep(0.2)
    still_serving(daemon)  # a slot is free again
    for c in conns[1:]:
        c.close()


def test_unfinished_packets_are_bounded(daemon):
    """Clients announcing 32 MiB packets and sending most of each: the daemon holds at most
    256 MiB of unfinished packets for all clients together and drops the client that would
    pass that, instead of growing without bound."""
    chunk = b"\0" * (1 << 20)
    conns, dropped = [], []
    for i in range(9):  # 9 x 30 MiB > 256 MiB
        s = daemon.connect()
        s.sendall(struct.pack(">I", 4 + 32 * 1024 * 1024))
        try:
            for _ in range(30):
                s.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            dropped.append(i)
        conns.append(s)
    time.sleep(0.3)
    dropped += [i for i, s in enumerate(conns) if i not in dropped and closed_by_peer(s, 0.2)]
    assert dropped, "nobody was dropped although 270 MiB were held"
    assert 0 not in dropped  # the first ones fit
    still_serving(daemon)
    for s in conns:
        s.close()
    still_serving(daemon)


def test_keepalive_drops_silent_clients(daemon):
    daemon.stop()
    with open(daemon.conf, "a") as f:
        f.write("keepalive_interval=1\nkeepalive_count=2\n")
    daemon.start()
    feature10 = struct.pack(">i", 10)
    silent, answering, plain = daemon.connect(), daemon.connect(), daemon.connect()
    for s in (silent, answering):
        p = call(s, 60, feature10)  # CONNECT_SUPPORTS_FEATURE(PROGRAM_KEEPALIVE)
        assert p[6] == struct.pack(">i", 1)
    # the silent one is pinged, then closed after 2 unanswered pings (about 3 s), while the
    # one that answers its pings stays
    pinged = closed = False
    deadline = time.time() + 8
    while not closed and time.time() < deadline:
        r, _, _ = select.select([silent, answering], [], [], 0.2)
        if silent in r:
            p = recv_packet(silent)
            if p is None:
                closed = True
            else:
                assert p[:6] == (KEEPALIVE, 1, 1, MESSAGE, 0, OK)
                pinged = True
        if answering in r:
            p = recv_packet(answering)
            assert p is not None and p[:3] == (KEEPALIVE, 1, 1)
            answering.sendall(packet(2, prog=KEEPALIVE, type_=MESSAGE, serial=0))
    assert pinged and closed
    ping_pong(answering)
    # one that never asked for keepalive is never pinged
    r, _, _ = select.select([plain], [], [], 0.1)
    assert not r
    ping_pong(plain)
    # virsh answers our pings: a long event loop is not cut off
    r = daemon.virsh("event", "--all", "--loop", "--timeout", "4", check=False)
    assert "event loop timed out" in r.stdout
    for s in (silent, answering, plain):
        s.close()


def test_fuzzed_calls(daemon):
    """Thousands of CALLs of every served procedure with random arguments, most of them
    starting with a real domain so that they get past decoding into the driver: each gets a
    reply (or, rarely, a closed connection), and the daemon keeps serving."""
    import re
    src = os.environ.get("HV_SRCDIR", os.path.join(os.path.dirname(__file__), "..", ".."))
    with open(os.path.join(src, "daemon", "rpc", "hv_remote_protocol.x")) as f:
        procs = [int(n) for n in re.findall(r"REMOTE_PROC_\w+ = (\d+)", f.read())]
    procs = [p for p in procs if p not in (1, 2)]  # keep the connection open
    daemon.define("fz", 1)
    daemon.virsh("start", "fz")
    uuid = bytes.fromhex("5c3f2c2a8e1b4f6e9d1a0b0c0d0e0f01")
    dom = xdr_string("fz") + uuid + struct.pack(">i", 1)
    rng = random.Random(int(os.environ.get("HV_FUZZ_SEED", "4242")))
    calls = int(os.environ.get("HV_FUZZ_CALLS", "3000"))
    s = open_conn(daemon)
    replies = reconnects = ok = 0
    for serial in range(calls):
        proc = rng.choice(procs)
        tail = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 48)))
        if rng.random() < 0.5:  # small integers and short strings are likelier to be accepted
            tail = b"".join(rng.choice([struct.pack(">i", rng.randint(-2, 8)), xdr_string("x"),
                                        struct.pack(">I", 0)]) for _ in range(rng.randint(0, 6)))
        payload = (dom if rng.random() < 0.7 else b"") + tail
        s.sendall(packet(proc, payload, serial=serial))
        while True:
            p = recv_packet(s, timeout=10)
            if p is None:  # closed: start again
                s.close()
                s = open_conn(daemon)
                reconnects += 1
                break
            if p[3] == REPLY and p[4] == serial:
                replies += 1
                ok += p[5] == OK
                break
            # events and stream data of consoles the fuzzer opened: skip
    s.close()
    assert replies > calls * 0.95, (replies, reconnects)
    assert ok > calls // 30, ok  # some calls got through to the driver and succeeded
    print("fuzz: %d replies, %d OK, %d reconnects" % (replies, ok, reconnects))
    still_serving(daemon)
