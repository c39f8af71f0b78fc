"""Network devices end to end: netfront in two domUs, dom0's netback and switch, the host's TAPs.

One machine (tools/hv-machine: QEMU with hv `sched=resv`, 2 pCPUs, dom0 = guest.elf `agent
net_link_kbps=1024`: the switch's link into the guests is 1 MiB/s, low enough for the emulated
machine to fill it even on a loaded host). Two domUs, made by `hvctl create --nic MAC,tap=NAME`:
  A 10.80.T.2/24 on TAP hvnT-a, which has the host's 10.80.T.1/24;
  B 10.80.T.3/24 on TAP hvnT-b, without an address: the host reaches B through hvnT-a and the
  switch (both TAPs get arp_ignore=1, so that only hvnT-a answers for the host's address).
  T is the test process's id modulo 250: two runs on one host do not share names or subnets.
Checked, through each domU's console and from the host:
- both front ends connect (netfront's and netback's messages, `net: eth0 up`);
- A pings B and B pings A (3 of 3), the host pings both with raw ICMP (B via the switch);
- bandwidth settings round-trip through libhvctl (tests/system/net-bw); floors beyond the link,
  a floor on outbound traffic and an interface that does not exist are refused;
- outbound limit: A floods the host with udpsend; what A gets out (udpsend's rate: the back
  end holds it back in its own ring) and what dom0 sends out of hvnT-a (hvctl backing's
  to_tap_bytes over 5 s) stay within 5% of A's limit: 10 MiB/s when the unlimited flood
  reaches 1.15 times that, otherwise (a slower or loaded host) 1 MiB/s, as the output says;
- inbound limit: the host floods B (three times the limit offered) whose inbound average is
  512 KiB/s: B's udpsink sees at most 5% more (Ethernet bytes: UDP payload * 1514 / 1472);
- floors: A's floor is 30% of the link, B's 60%; the host floods both at 1.5 times the link:
  each gets at least 90% of its floor (the rest is what a host starving the emulated machine
  costs) and together no more than the link (+5%);
- a third domU with a hostile front end (test_hostile_front_end says what it does) gets errors
  and its devices closed, without harm to dom0 or the others.
Every process is stopped at the end, pass or fail; the serial log is kept in tests/out/net.log.
"""

import os
import re
import signal
import socket
import struct
import subprocess
import time

import pytest

from held_machine import HV, GUEST, HV_MACHINE, HVCTL, held_machine, hvctl
from held_machine import serial as _serial
from hvtest import build_path

NET_BW = build_path("tests/system/net-bw")
LINK_KBPS = 1024
# Names and addresses of this run's own (two runs of the test may share a host).
TAG = os.getpid() % 250
NET = f"10.80.{TAG}"
HOST_IP, A_IP, B_IP, C_IP, NOBODY_IP = (f"{NET}.{n}" for n in (1, 2, 3, 4, 99))
A_MAC, B_MAC = "00:16:3e:79:09:02", "00:16:3e:79:09:03"
TAP_A, TAP_B, TAP_C, TAP_D = (f"hvn{TAG}-{x}" for x in "abcd")
PAYLOAD = 1472
FRAME = PAYLOAD + 8 + 20 + 14  # UDP, IPv4 and Ethernet headers

pytestmark = [
    pytest.mark.skipif(not all(os.path.exists(p) for p in (HV, GUEST, HV_MACHINE, HVCTL, NET_BW)),
                       reason="hv, guest.elf, hv-machine, hvctl or net-bw not built"),
    pytest.mark.skipif(os.geteuid() != 0, reason="TAP devices and raw sockets need root"),
    pytest.mark.serial,  # rates of the emulated machine: not beside other machines
]


def net_bw(d, domid, direction, *values, check=True):
    r = subprocess.run([NET_BW, d, str(domid), "0", direction, *map(str, values)],
                       capture_output=True, text=True, timeout=60)
    if check:
        assert r.returncode == 0, f"net-bw {domid} {direction} {values}: {r.stdout}{r.stderr}"
    return r


class Console:
    """A domU's console through `hvctl console DOMID`, kept open: commands typed, output read
    from a file."""

    def __init__(self, d, domid, path):
        self.path = path
        self.out = open(path, "w")
        self.proc = subprocess.Popen([HVCTL, "--machine", d, "--timeout", "30", "console",
                                      str(domid)], stdin=subprocess.PIPE, stdout=self.out,
                                     stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        self.seen = 0  # output before this offset has been matched already

    def text(self):
        with open(self.path, errors="replace") as f:
            return f.read()

    def wait(self, regex, timeout=60):
        """Waits for regex in the output after what earlier waits matched; returns the match."""
        end = time.monotonic() + timeout
        while True:
            text = self.text()
            m = re.compile(regex, re.M).search(text, self.seen)
            if m:
                self.seen = m.end()
                return m
            if time.monotonic() > end:
                raise AssertionError(f"{regex!r} not on the console within {timeout} s: "
                                     f"{text[self.seen:][-3000:]!r}")
            time.sleep(0.2)

    def run(self, command, regex, timeout=60):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.wait(regex, timeout)

    def close(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.out.close()


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    consoles = []
    with held_machine("net.log", prefix="hvnt-",
                      dom0_cmdline=f"agent net_link_kbps={LINK_KBPS}") as d:
        try:
            doms = {}
            for name, ip, nic in (("a", A_IP, f"{A_MAC},tap={TAP_A},ip={HOST_IP}/24"),
                                  ("b", B_IP, f"{B_MAC},tap={TAP_B}")):
                out = hvctl(d, "create", GUEST, "--memory", "16", "--cmdline",
                            f"ip={ip}/24 shell", "--name", name, "--nic", nic,
                            timeout=120).stdout.split()
                doms[name] = int(out[0])
            for tap in (TAP_A, TAP_B):
                with open(f"/proc/sys/net/ipv4/conf/{tap}/arp_ignore", "w") as f:
                    f.write("1\n")
            tmp = tmp_path_factory.mktemp("net")
            for name in ("a", "b"):
                consoles.append(Console(d, doms[name], str(tmp / f"console-{name}.out")))
            yield {"dir": d, "a": doms["a"], "b": doms["b"], "con_a": consoles[0],
                   "con_b": consoles[1]}
        finally:
            for c in consoles:  # before the machine stops
                c.close()


# ---- the host's side ----


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def host_ping(dst, count=3, timeout=5.0):
    """Raw ICMP echo from the host; the number of replies."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    ident, got = os.getpid() & 0xFFFF, 0
    try:
        for seq in range(1, count + 1):
            m = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + b"hvnet-ping" * 5
            s.sendto(m[:2] + struct.pack("!H", csum(m)) + m[4:], (dst, 0))
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                s.settimeout(max(0.01, end - time.monotonic()))
                try:
                    pkt, addr = s.recvfrom(4096)
                except socket.timeout:
                    break
                icmp = pkt[(pkt[0] & 15) * 4:]
                if addr[0] == dst and icmp[0] == 0 and struct.unpack("!HH", icmp[4:8]) == (
                        ident, seq):
                    got += 1
                    break
    finally:
        s.close()
    return got


def flood(dsts, kibps, seconds):
    """Sends PAYLOAD-byte datagrams to each (addr, port) in dsts, each paced at kibps, for
    seconds; returns the datagrams sent to each."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in dsts]
    buf = b"HVUD" + bytes(PAYLOAD - 4)  # not numbered: udpsink counts bytes and time
    sent = [0] * len(dsts)
    start = time.monotonic()
    try:
        while True:
            now = time.monotonic()
            if now - start >= seconds:
                break
            due = int((now - start) * kibps * 1024 / PAYLOAD)
            for i, (s, dst) in enumerate(zip(socks, dsts)):
                while sent[i] < due:
                    try:
                        s.sendto(buf, dst)
                    except OSError:
                        pass
                    sent[i] += 1
            time.sleep(0.001)
    finally:
        for s in socks:
            s.close()
    return sent


def sink_rate(m):
    """Ethernet KiB/s from a udpsink report (UDP payload bytes / time)."""
    return float(m.group(2)) / 1024 / float(m.group(3)) * FRAME / PAYLOAD


SINK_RE = r"udpsink: received (\d+) datagrams, (\d+) bytes in ([\d.]+) s"


def to_tap_bytes(d, domid):
    for line in hvctl(d, "backing").stdout.splitlines():
        f = line.split()
        if f and f[0] == str(domid) and f[1] == "nic":
            return int(re.search(r"to_tap_bytes=(\d+)", line).group(1))
    raise AssertionError(f"no TAP of domain {domid} in hvctl backing")


# ---- the tests, in order ----


def test_front_ends_connect(net):
    for con in (net["con_a"], net["con_b"]):
        con.run("", r"\$ ")  # the shell is up
    text_a, text_b = net["con_a"].text(), net["con_b"].text()
    serial = _serial(net["dir"])
    for text, mac, ip in ((text_a, A_MAC, A_IP), (text_b, B_MAC, B_IP)):
        assert re.search(rf"netfront: eth0 \(vif 0\) connected, mac {mac}", text) or \
            f"netfront: eth0 (vif 0) connected, mac {mac}" in serial, text
    for domid in (net["a"], net["b"]):
        assert f"netback: vif {domid}.0 connected" in serial, serial[-3000:]


def test_domus_ping_each_other(net):
    net["con_a"].run(f"ping -c 3 {B_IP}", r"3 packets transmitted, 3 received", timeout=60)
    net["con_b"].run(f"ping -c 3 {A_IP}", r"3 packets transmitted, 3 received", timeout=60)


def test_host_pings_domus(net):
    assert host_ping(A_IP) == 3
    assert host_ping(B_IP) == 3  # through hvnT-a and the switch


def test_bandwidth_settings(net):
    d, a = net["dir"], net["a"]
    assert net_bw(d, a, "in", 1000, 2000, 300, 100).stdout.strip() == \
        "in average=1000 peak=2000 burst=300 floor=100"
    assert net_bw(d, a, "in").stdout.strip() == "in average=1000 peak=2000 burst=300 floor=100"
    assert net_bw(d, a, "out").stdout.strip() == "out average=0 peak=0 burst=0 floor=0"
    # floors beyond the link, a floor on outbound traffic, no such interface: refused
    assert net_bw(d, a, "in", 0, 0, 0, LINK_KBPS + 1, check=False).returncode == 1
    assert net_bw(d, a, "out", 0, 0, 0, 5, check=False).returncode == 1
    r = subprocess.run([NET_BW, d, str(a), "7", "in", "100"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1, r.stdout + r.stderr
    assert net_bw(d, a, "in").stdout.strip() == "in average=1000 peak=2000 burst=300 floor=100"
    net_bw(d, a, "in", 0, 0, 0, 0)


def _flood_out_of_a(net, seconds=10):
    """A floods the host with udpsend. Returns what A got out (udpsend's own rate: the back end
    holds a guest over its limit in its own ring, so this is what the limit allows) and what
    dom0 sent out of hvnT-a over 5 s in the middle (hvctl backing), both in Ethernet KiB/s."""
    d, con = net["dir"], net["con_a"]
    # A bound port: the host drops what overflows it instead of answering port-unreachable.
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((HOST_IP, 5009))
    try:
        con.run(f"udpsend {HOST_IP} 5009 -s {PAYLOAD} -t {seconds}",
                r"udpsend " + re.escape(HOST_IP))
        time.sleep(2.5)
        b0, t0 = to_tap_bytes(d, net["a"]), time.monotonic()
        time.sleep(5)
        b1, t1 = to_tap_bytes(d, net["a"]), time.monotonic()
        m = con.wait(r"udpsend: sent (\d+) datagrams of \d+ bytes \((\d+) bytes\) in "
                     r"([\d.]+) s.*", timeout=seconds + 30)
    finally:
        s.close()
    sent = float(m.group(2)) / 1024 / float(m.group(3)) * FRAME / PAYLOAD
    to_tap = (b1 - b0) / 1024 / (t1 - t0)
    print(f"{m.group(0)}\n  A sent {sent:.0f} KiB/s, dom0 to {TAP_A} {to_tap:.0f} KiB/s")
    return sent, to_tap


def test_outbound_limit(net):
    d, a = net["dir"], net["a"]
    net_bw(d, a, "out", 0)
    unlimited, _ = _flood_out_of_a(net)
    limit = 10240 if unlimited > 1.15 * 10240 else 1024
    print(f"unlimited flood out of A: {unlimited:.0f} KiB/s; limit tested: {limit} KiB/s")
    assert unlimited > 1.15 * limit, f"the flood ({unlimited:.0f} KiB/s) cannot test {limit}"
    net_bw(d, a, "out", limit)
    try:
        sent, to_tap = _flood_out_of_a(net)
    finally:
        net_bw(d, a, "out", 0)
    assert sent <= 1.05 * limit, (sent, limit)
    assert to_tap <= 1.05 * limit, (to_tap, limit)
    # Below the limit only when the host starves the emulated machine (udpsend then overruns
    # its own time): a loose bound that still shows the flood reached the limit.
    assert sent >= 0.5 * limit, (sent, limit)


def test_inbound_limit(net):
    d, b, con = net["dir"], net["b"], net["con_b"]
    limit = LINK_KBPS // 2
    net_bw(d, b, "in", limit)
    try:
        con.run("udpsink 5010 -t 14", r"udpsink: listening on port 5010")
        sent = flood([(B_IP, 5010)], 3 * limit, 8)
        m = con.wait(SINK_RE, timeout=40)
    finally:
        net_bw(d, b, "in", 0)
    rate = sink_rate(m)
    print(f"host offered {sent[0]} datagrams at {3 * limit} KiB/s; B received {rate:.0f} KiB/s")
    assert rate <= 1.05 * limit, (rate, limit)
    assert rate >= 0.5 * limit, (rate, limit)


def test_floors_under_contention(net):
    d = net["dir"]
    floor_a, floor_b = LINK_KBPS * 30 // 100, LINK_KBPS * 60 // 100
    net_bw(d, net["a"], "in", 0, 0, 0, floor_a)
    net_bw(d, net["b"], "in", 0, 0, 0, floor_b)
    try:
        net["con_a"].run("udpsink 5011 -t 14", r"udpsink: listening on port 5011")
        net["con_b"].run("udpsink 5011 -t 14", r"udpsink: listening on port 5011")
        sent = flood([(A_IP, 5011), (B_IP, 5011)], LINK_KBPS * 3 // 2, 8)
        ra = sink_rate(net["con_a"].wait(SINK_RE, timeout=40))
        rb = sink_rate(net["con_b"].wait(SINK_RE, timeout=40))
    finally:
        net_bw(d, net["a"], "in", 0)
        net_bw(d, net["b"], "in", 0)
    print(f"offered {sent} datagrams; A {ra:.0f} KiB/s (floor {floor_a}), "
          f"B {rb:.0f} KiB/s (floor {floor_b}), link {LINK_KBPS}")
    assert ra >= 0.9 * floor_a, (ra, floor_a)
    assert rb >= 0.9 * floor_b, (rb, floor_b)
    assert ra + rb <= 1.05 * LINK_KBPS, (ra, rb)


def test_hostile_front_end(net, tmp_path):
    """A third domU with `nethostile` (arch/pv/netfront.c) makes requests a guest must not.
    Its first interface: bad and unused grant references, a runt, a giant, bytes past its page,
    chained and extra-info slots (each answered with an error, a good one between them answered
    OK), a receive buffer behind a bad grant (the frame for it answered with an error), then a
    transmit producer index beyond the ring: dom0 closes that device. Its second interface: the
    bad receive buffer, then a receive producer index beyond the ring, seen when the next frame
    comes (ARP broadcasts of the host looking for an address nobody has): closed too. dom0 lives
    on, A and B still talk, and destroying the hostile domU removes its devices."""
    d = net["dir"]
    c_ip = C_IP
    out = hvctl(d, "create", GUEST, "--memory", "16", "--cmdline",
                f"ip={c_ip}/24 ip1=10.81.{TAG}.4/24 nethostile shell", "--name", "c", "--nic",
                f"00:16:3e:79:09:04,tap={TAP_C}", "--nic", f"00:16:3e:79:09:05,tap={TAP_D}",
                timeout=120).stdout.split()
    c = int(out[0])
    for tap in (TAP_C, TAP_D):
        with open(f"/proc/sys/net/ipv4/conf/{tap}/arp_ignore", "w") as f:
            f.write("1\n")
    con = Console(d, c, str(tmp_path / "console-c.out"))

    def frames_until(regex, target):
        """Sends frames that reach C until regex is on its console (60 s at most)."""
        deadline = time.monotonic() + 60
        while not re.search(regex, con.text()[con.seen:]) and time.monotonic() < deadline:
            host_ping(target, count=1, timeout=1.0)
        return con.wait(regex, timeout=5)

    try:
        con.wait(r"nethostile: waiting for a frame on vif 0", timeout=120)
        frames_until(r"nethostile: rx bad-gref: .*", c_ip)  # the first meets the bad grant
        con.wait(r"nethostile: impossible tx index: back end state .*", timeout=60)
        con.wait(r"nethostile: waiting for a frame on vif 1", timeout=60)
        # Nobody has NOBODY_IP: the host's ARP requests are flooded to every port.
        frames_until(r"nethostile: rx bad-gref: .*", NOBODY_IP)
        con.wait(r"nethostile: waiting for the back end to close vif 1", timeout=30)
        frames_until(r"nethostile: impossible rx index: back end state .*", NOBODY_IP)
        text = con.text()
    finally:
        con.close()
    lines = re.findall(r"^nethostile: .*$", text, re.M)
    tx = [line for line in lines if line.startswith("nethostile: tx ")]
    assert len(tx) == 8, lines
    assert all("(as expected)" in line for line in tx), lines
    assert text.count("nethostile: rx bad-gref: answered with an error (as expected)") == 2, lines
    assert re.search(r"impossible tx index: back end state 6 \(closed, as expected\)", text), lines
    assert re.search(r"impossible rx index: back end state 6 \(closed, as expected\)", text), lines
    serial = _serial(d)
    assert f"netback: vif {c}.0: impossible transmit ring index; disconnected" in serial
    assert f"netback: vif {c}.1: impossible receive ring index; disconnected" in serial
    # dom0 still switches A and B, and the host still reaches A
    net["con_a"].run(f"ping -c 2 {B_IP}", r"2 packets transmitted, 2 received", timeout=60)
    assert host_ping(A_IP, count=2) == 2
    hvctl(d, "destroy", str(c))
    assert str(c) not in [line.split()[0] for line in hvctl(d, "list").stdout.splitlines()[1:]]
    deadline = time.monotonic() + 30
    while f"netback: vif {c}.1 removed" not in _serial(d) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert f"netback: vif {c}.0 removed" in _serial(d)
    assert f"netback: vif {c}.1 removed" in _serial(d)
    assert "PANIC" not in _serial(d)
