"""The domU's network stack (guest-kernel/net/) seen from the host through its TAP.

One machine (tools/hv-machine: QEMU with hv, dom0 = guest.elf `agent`), one domU created with
`hvctl create --nic ip=HOST/24` and `ip=GUEST/24` on its command line; its shell script runs
udpsink, netstat, ping and udpsend while the host, as root:
- pings it with raw ICMP sockets: small and the largest unfragmented echo come back with the
  same identifier, sequence and data, TTL 64; the host's neighbour table has the domU's MAC;
- sends it a fragmented echo request (dropped: no reassembly, no answer) and 2000 garbled
  frames (mutated ARP, ICMP and UDP frames, truncated ones) through the TAP; after one valid
  ARP request (a garbled one may have taught it a wrong MAC for the host, as it would any
  stack) the domU answers pings, and its netstat counts the bad frames (bad IP checksums,
  fragments, ...);
- sends numbered datagrams to udpsink: its report adds up (received + lost = sent);
- receives the domU's ping replies and its numbered udpsend datagrams (paced with -r); the
  domU's ping of its own address is answered.
The subnet 10.79.7.0/24 is this test's own, so that other tests' TAPs do not collide with it.
Every process is stopped at the end, pass or fail; the serial log is kept in
tests/out/net-stack.log.
"""

import os
import random
import re
import socket
import struct
import subprocess
import time

import pytest

from held_machine import HV, GUEST, HV_MACHINE, HVCTL, held_machine, serial

HOST_IP = "10.79.7.1"
GUEST_IP = "10.79.7.2"
SINK_PORT = 5001
HOST_PORT = 5002
MAGIC = 0x48565544  # "HVUD", as user/net.c numbers its datagrams

pytestmark = [
    pytest.mark.skipif(not all(os.path.exists(p) for p in (HV, GUEST, HV_MACHINE, HVCTL)),
                       reason="hv, guest.elf, hv-machine or hvctl not built"),
    pytest.mark.skipif(os.geteuid() != 0, reason="TAP devices and raw sockets need root"),
]


def wait_serial(d, regex, timeout=90):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        m = re.search(regex, serial(d), re.M)
        if m:
            return m
        time.sleep(0.3)
    raise AssertionError(f"{regex!r} not in the serial log:\n{serial(d)[-4000:]}")


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, frag=0x4000):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 7, frag, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def echo_request(ident, seq, data):
    m = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + data
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


class Pinger:
    """ICMP echo from the host with a raw socket; replies matched by identifier and sequence."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        self.ident = os.getpid() & 0xFFFF

    def ping(self, dst, seq, data, timeout=5.0):
        self.sock.sendto(echo_request(self.ident, seq, data), (dst, 0))
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.sock.settimeout(max(0.01, end - time.monotonic()))
            try:
                pkt, addr = self.sock.recvfrom(4096)
            except socket.timeout:
                break
            ihl = (pkt[0] & 15) * 4
            icmp = pkt[ihl:]
            if addr[0] == dst and icmp[0] == 0 and struct.unpack("!HH", icmp[4:8]) == (
                    self.ident, seq):
                assert csum(icmp) == 0, "reply with a bad ICMP checksum"
                return pkt[8], icmp[8:]  # TTL, data
        return None

    def close(self):
        self.sock.close()


@pytest.fixture
def machine():
    with held_machine("net-stack.log", prefix="hvnet-") as d:
        yield d


def netstat_counters(d, domid, after):
    """The counters of the domU's first netstat printed after offset `after` of the log."""
    wait_serial(d, rf"^\(d{domid}\)\s+tx_ring_full\s+\d+$")
    text = serial(d)[after:]
    start = text.index(f"(d{domid}) Counters:")
    return {k: int(v) for k, v in re.findall(rf"^\(d{domid}\)\s+(\w+)\s+(\d+)$",
                                               text[start:], re.M)}


def test_net_stack_from_the_host(machine):
    d = machine
    host_rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    script = (f"ip={GUEST_IP}/24 -- udpsink {SINK_PORT} -t 300; netstat; "
              f"ping -c 3 -i 0.2 {HOST_IP}; ping -c 2 -i 0.2 {GUEST_IP}; udpsend {HOST_IP} {HOST_PORT} -n 200 -s 1000 -r 200; "
              f"udpsink {SINK_PORT} -t 1; poweroff")
    r = subprocess.run([HVCTL, "--machine", d, "create", GUEST, "--memory", "32", "--cmdline",
                        script, "--nic", f"ip={HOST_IP}/24"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    domid = int(r.stdout.split()[0])
    m = re.search(r"interface 0: ([0-9a-f:]{17}) on (\S+)", r.stderr)
    assert m, r.stderr
    mac, tap = m.group(1), m.group(2)
    wait_serial(d, rf"^\(d{domid}\) net: eth0 up, mac {mac}, inet {GUEST_IP}/24$")
    wait_serial(d, rf"^\(d{domid}\) udpsink: listening on port {SINK_PORT}$")
    host_rx.bind((HOST_IP, HOST_PORT))  # the TAP has its address now

    pinger = Pinger()
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    raw.bind((tap, 0))
    try:
        # Echo: small, and the largest that needs no fragment (1500 - 20 - 8 = 1472 bytes).
        for seq, size in ((1, 56), (2, 1472), (3, 0)):
            data = bytes(random.randrange(256) for _ in range(size))
            reply = pinger.ping(GUEST_IP, seq, data)
            assert reply, f"no echo reply (seq {seq}, {size} bytes)"
            assert reply == (64, data)
        neigh = subprocess.run(["ip", "neigh", "show", GUEST_IP, "dev", tap],
                               capture_output=True, text=True).stdout
        assert mac in neigh.lower(), neigh

        # A fragmented echo request is dropped: no reassembly, no reply.
        with open(f"/sys/class/net/{tap}/address") as f:
            src_mac = bytes.fromhex(f.read().strip().replace(":", ""))
        dst_mac = bytes.fromhex(mac.replace(":", ""))
        frag = ipv4(HOST_IP, GUEST_IP, 1, echo_request(pinger.ident, 99, b"f" * 64),
                    frag=0x2000)
        raw.send(dst_mac + src_mac + b"\x08\x00" + frag)

        # Garbage: mutated copies of valid ARP, ICMP and UDP frames, some truncated.
        arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x800, 6, 4, 1, src_mac,
                          socket.inet_aton(HOST_IP), b"\0" * 6, socket.inet_aton(GUEST_IP))
        udp = struct.pack("!HHHH", 4000, SINK_PORT, 8 + 16, 0) + b"u" * 16
        bases = [b"\xff" * 6 + src_mac + b"\x08\x06" + arp,
                 dst_mac + src_mac + b"\x08\x00" +
                 ipv4(HOST_IP, GUEST_IP, 1, echo_request(1, 1, b"g" * 40)),
                 dst_mac + src_mac + b"\x08\x00" + ipv4(HOST_IP, GUEST_IP, 17, udp)]
        rng = random.Random(1234)
        for i in range(2000):
            f = bytearray(rng.choice(bases))
            for _ in range(rng.randint(1, 4)):
                f[rng.randrange(12, len(f))] ^= rng.randint(1, 255)
            if rng.random() < 0.25:
                f = f[:rng.randrange(14, len(f) + 1)]
            raw.send(bytes(f))
            if i % 50 == 49:
                time.sleep(0.01)  # the TAP's queue is not the subject here
        # A garbled ARP packet may have taught the domU a wrong MAC for the host, as it would
        # any stack: a valid request from the host puts it right.
        time.sleep(1)
        raw.send(bases[0])
        reply = pinger.ping(GUEST_IP, 4, b"still alive")
        assert reply == (64, b"still alive"), "no answer after the garbage"

        # Numbered datagrams to udpsink, then its end marker: its report must add up.
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sent = 300
        for seq in range(sent):
            tx.sendto(struct.pack("!III", MAGIC, seq, 0) + bytes(500), (GUEST_IP, SINK_PORT))
            time.sleep(0.002)
        offset = len(serial(d))
        for _ in range(3):
            tx.sendto(struct.pack("!III", MAGIC, sent, 1), (GUEST_IP, SINK_PORT))
            time.sleep(0.05)
        tx.close()
        m = wait_serial(d, rf"^\(d{domid}\) udpsink: received (\d+) datagrams, (\d+) bytes in "
                           rf"(\d+)\.(\d+) s: (\d+)\.(\d) KB/s, lost (\d+) of (\d+) \((\d+)%\)$",
                        timeout=60)
        received, nbytes, lost, expected = (int(m.group(i)) for i in (1, 2, 7, 8))
        # Garbled UDP frames without a checksum may reach the port too: only the numbered
        # ones count towards "expected", and the rest of "received" is garbage.
        assert expected == sent and lost < sent, m.group(0)
        assert received >= sent - lost and nbytes >= (sent - lost) * 512, m.group(0)

        c = netstat_counters(d, domid, offset)
        assert c["ip_fragments"] >= 1, c
        assert c["ip_bad_checksum"] > 0 and c["arp_bad"] > 0 and c["icmp_bad"] > 0, c
        assert c["icmp_echo_replies_tx"] >= 4, c
        assert c["arp_replies_tx"] >= 1, c

        # The domU pings the host, then sends it 200 numbered datagrams at 200 KB/s.
        m = wait_serial(d, rf"^\(d{domid}\) 3 packets transmitted, (\d+) received, (\d+)% "
                           rf"packet loss, time \d+ms$", timeout=60)
        assert m.group(1) == "3", m.group(0)
        wait_serial(d, rf"^\(d{domid}\) rtt min/avg/max/mdev = [\d.]+/[\d.]+/[\d.]+/[\d.]+ ms$")
        # Its own address answers without the wire.
        m = wait_serial(d, rf"^\(d{domid}\) 2 packets transmitted, (\d+) received", timeout=30)
        assert m.group(1) == "2", m.group(0)
        host_rx.settimeout(30)
        seqs = set()
        while True:
            data, addr = host_rx.recvfrom(2048)
            assert addr[0] == GUEST_IP
            magic, seq, flags = struct.unpack("!III", data[:12])
            assert magic == MAGIC
            if flags & 1:
                assert seq == 200
                break
            assert len(data) == 1000 and seq < 200 and seq not in seqs
            seqs.add(seq)
        m = wait_serial(d, rf"^\(d{domid}\) udpsend: sent (\d+) datagrams of 1000 bytes "
                           rf"\((\d+) bytes\) in (\d+)\.(\d+) s: (\d+)\.\d KB/s$", timeout=60)
        assert m.group(1) == "200", m.group(0)
        assert len(seqs) >= 190, len(seqs)  # paced at 200 KB/s: a loss or two at most
        rate = int(m.group(5))
        assert 150 <= rate <= 210, m.group(0)  # -r 200 paces it
        wait_serial(d, rf"^\(d{domid}\) udpsink: received 0 datagrams", timeout=30)
    finally:
        pinger.close()
        raw.close()
        host_rx.close()
    assert "PANIC" not in serial(d)
