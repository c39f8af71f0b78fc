"""Split I/O through virthvd and the stock clients on the REAL machine (issue 9): a domain
defined with a <disk type='file'> and an <interface type='ethernet'> runs guest.elf's shell;
everything is driven with virsh.

- the holder of the machine backs the disk with the file and the interface with a TAP named
  by <target dev>, with the address of <ip> (hvctl backing, the host's interface list);
- `virsh console` shows the shell; `blk write` there puts the pattern into the host file (the
  test computes it as user/blk.c does) and a read-only second disk refuses writes;
- the host pings the domU through the TAP (as root);
- domiftune and blkdeviotune read the XML's values, set new ones --live (dom0 holds them:
  hvctl reads them back from the machine) and --config (the stored XML has them);
- after destroy the file and TAP are let go; a new start of the same definition reads the
  pattern back, and a read expecting another pattern fails (the check can fail).

One machine for the module (virthvd starts it, as in test_real_hv). Skipped when hv or the
guest kernel is not built.
"""

import os
import re
import socket
import struct
import subprocess
import time

import pytest

import conftest
import test_real_hv as rh

libvirt = pytest.importorskip("libvirt")

needs_machine = pytest.mark.skipif(
    not all(os.path.exists(p) for p in (rh.HV, rh.GUEST, rh.HV_MACHINE, rh.HVCTL)),
    reason="hv, guest.elf, hv-machine or hvctl not built")

XVDA, XVDB = 51712, 51728
M64 = (1 << 64) - 1
NET = 10 + os.getpid() % 240  # a subnet of our own: other tests may run beside this one
TAP = "hvio%d" % (os.getpid() % 100000)
ROOT = os.geteuid() == 0 and os.path.exists("/dev/net/tun")

XML = """<domain type='hv'>
  <name>io</name>
  <uuid>7a3f2c2a-8e1b-4f6e-9d1a-0b0c0d0e1f01</uuid>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>linux</type>
    <kernel>{kernel}</kernel>
    <cmdline>shell ip=10.85.{net}.2/24</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <source file='{disk}'/>
      <target dev='xvda' bus='xen'/>
      <iotune>
        <total_bytes_sec>4194304</total_bytes_sec>
      </iotune>
    </disk>
    <disk type='file' device='disk'>
      <source file='{rodisk}'/>
      <target dev='xvdb' bus='xen'/>
      <readonly/>
    </disk>
    <interface type='ethernet'>
      <mac address='00:16:3e:42:00:01'/>
      <target dev='{tap}'/>
      {ip}
      <bandwidth>
        <inbound average='1000' peak='2000' burst='100'/>
      </bandwidth>
    </interface>
    <interface type='ethernet'>
      <mac address='00:16:3e:42:00:02'/>
    </interface>
    <console type='pty'>
      <target type='xen' port='0'/>
    </console>
  </devices>
</domain>
"""


def pattern_sector(seed, sector):
    """The 512 bytes `blk write SECTOR COUNT SEED` puts in one sector (user/blk.c: pattern)."""
    words = []
    for w in range(64):
        z = (seed * 0x9e3779b97f4a7c15 + (sector << 7) + w + 1) & M64
        z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M64
        z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M64
        words.append(z ^ (z >> 31))
    return struct.pack("<64Q", *words)


@pytest.fixture(scope="module")
def io(tmp_path_factory):
    d = rh.RealDaemon(tmp_path_factory.mktemp("io"))
    try:
        d.start()
        yield d
    finally:
        d.stop()
        subprocess.run([rh.HV_MACHINE, "stop", "--dir", d.machine_dir], capture_output=True,
                       timeout=60)
        for pid in rh.qemu_pids(d.machine_dir):
            os.kill(pid, 9)


@pytest.fixture
def real(io):
    """The module's daemon, left with no domain defined or running after each test, so a
    failed test does not take the next ones with it."""
    yield io
    if not io.alive():
        return
    for name in io.virsh("list", "--all", "--name", check=False).stdout.split():
        io.virsh("destroy", name, check=False)
        io.virsh("undefine", name, check=False)


class Shell:
    """The domU's shell through `virsh console` on a pseudo-terminal."""

    def __init__(self, d, name):
        import test_events_console
        self.c = test_events_console.Pty(d.uri, name)
        assert self.c.read_until(b"Connected to domain '%s'" % name.encode(), 30), self.c.out
        self.c.write(b"\r")
        assert self.c.read_until(b"$ ", 30), self.c.out

    def run(self, cmd, expect, timeout=60):
        """Types cmd; returns the console output from then on once expect (bytes) is in it."""
        start = len(self.c.out)
        self.c.write(cmd.encode() + b"\r")
        ok = False
        deadline = time.time() + timeout
        while time.time() < deadline and not ok:
            self.c.read_until(b"\0", 0.2)
            ok = expect in self.c.out[start:]
        assert ok, "%r: %r" % (cmd, self.c.out[start:])
        return self.c.out[start:].decode(errors="replace")

    def close(self):
        self.c.write(b"\x1d")
        assert self.c.wait(30) == 0


def backing(d):
    r = d.hvctl("backing")
    assert r.returncode == 0, r.stderr
    return r.stdout


@needs_machine
def test_disk_and_interface_through_virsh(real, tmp_path):
    d = real
    disk, rodisk = str(tmp_path / "io.img"), str(tmp_path / "ro.img")
    with open(disk, "wb") as f:
        f.truncate(4 << 20)
    with open(rodisk, "wb") as f:
        f.write(b"\x5a" * (1 << 20))
    ip = "<ip address='10.85.%d.1' prefix='24'/>" % NET if ROOT else ""
    path = os.path.join(d.dir, "io.xml")
    with open(path, "w") as f:
        f.write(XML.format(kernel=rh.GUEST, disk=disk, rodisk=rodisk, tap=TAP, net=NET, ip=ip))
    d.virsh("define", path)
    r = d.virsh("start", "io", check=False)
    assert r.returncode == 0, r.stderr + d.log_text()[-2000:] + d.serial()[-2000:]
    domid = d.domid("io")
    d.wait_guest_shell(domid)

    # The holder backs both disks and the interface.
    b = backing(d)
    assert re.search(r"(?m)^%d disk %d rw %s sectors=8192 " % (domid, XVDA, re.escape(disk)), b), b
    assert re.search(r"(?m)^%d disk %d ro %s sectors=2048 " % (domid, XVDB, re.escape(rodisk)),
                     b), b
    assert re.search(r"(?m)^%d nic 0 %s " % (domid, TAP), b), b
    # An interface without <target dev>: hv<domid>.1, or hvN if another machine on this host
    # has that name; the live XML names it, as libvirt's vnetN.
    m = re.search(r"(?m)^%d nic 1 (hv%d\.1|hv\d+) " % (domid, domid), b)
    assert m, b
    second = m.group(1)
    assert socket.if_nametoindex(TAP) > 0 and socket.if_nametoindex(second) > 0
    assert "<target dev='%s'/>" % second in d.virsh("dumpxml", "io").stdout
    assert second not in d.virsh("dumpxml", "io", "--inactive").stdout
    assert re.search(r"%s\s+ethernet" % re.escape(second), d.virsh("domiflist", "io").stdout)

    # The shell on virsh console writes the pattern; the read-only disk refuses writes.
    sh = Shell(d, "io")
    try:
        out = sh.run("blk info", b"devid %d" % XVDB)
        assert re.search(r"devid %d sectors 8192 .*read-write" % XVDA, out), out
        assert re.search(r"devid %d sectors 2048 .*read-only" % XVDB, out), out
        sh.run("blk write 0 256 41", b"blk write: 256 sectors at 0 written seed 41")
        sh.run("blk flush", b"blk flush: done")
        m = re.search(r"blk(\d) devid %d" % XVDB, out)
        out = sh.run("blk -d %s write 0 8 9" % m.group(1), b"EROFS")
        assert "Read-only disk" in out, out
    finally:
        sh.close()
    with open(disk, "rb") as f:
        data = f.read()
    for s in range(256):
        assert data[s * 512:(s + 1) * 512] == pattern_sector(41, s), "sector %d" % s
    assert data[256 * 512:] == bytes(len(data) - 256 * 512)
    with open(rodisk, "rb") as f:
        assert f.read() == b"\x5a" * (1 << 20)
    # domblkstat: the holder's counts (256 sectors written, in 88-sector requests at most).
    out = d.virsh("domblkstat", "io", "xvda").stdout
    wr_req = int(re.search(r"wr_req\s+(\d+)", out).group(1))
    assert re.search(r"wr_bytes\s+131072\b", out) and 3 <= wr_req <= 256, out
    out = d.virsh("domblkstat", "io", rodisk).stdout
    assert re.search(r"wr_req\s+0\b", out) and re.search(r"wr_bytes\s+0\b", out), out

    # The host reaches the domU through its TAP.
    if ROOT:
        r = subprocess.run(["ping", "-c", "3", "-W", "3", "10.85.%d.2" % NET],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0 and " 0% packet loss" in r.stdout, r.stdout + r.stderr
        # domifstat, from the domain's side: it received (and answered) the echo requests.
        out = d.virsh("domifstat", "io", TAP).stdout
        assert int(re.search(r"rx_packets\s+(\d+)", out).group(1)) >= 3, out
        assert int(re.search(r"tx_packets\s+(\d+)", out).group(1)) >= 3, out
        out = d.virsh("domstats", "io", "--interface", "--block").stdout
        assert "net.0.name=%s" % TAP in out and "block.0.wr.bytes=131072" in out, out
        assert int(re.search(r"net\.0\.rx\.pkts=(\d+)", out).group(1)) >= 3, out

    # domiftune: the XML's values, then new ones live (held by dom0) and in the config.
    out = d.virsh("domiftune", "io", TAP).stdout
    assert re.search(r"inbound.average:\s*1000\b", out) and re.search(r"inbound.peak\s*:\s*2000",
                                                                      out), out
    d.virsh("domiftune", "io", TAP, "--inbound", "3000,4000,300", "--live")
    out = d.virsh("domiftune", "io", "00:16:3e:42:00:01").stdout
    assert re.search(r"inbound.average:\s*3000\b", out), out
    assert re.search(r"inbound.burst\s*:\s*300\b", out), out
    r = d.hvctl("domiftune", str(domid), "0")
    assert r.returncode == 0, r.stderr
    assert "inbound average=3000 peak=4000 burst=300" in r.stdout, r.stdout
    d.virsh("domiftune", "io", TAP, "--outbound", "500,600,70", "--config")
    xml = d.virsh("dumpxml", "io", "--inactive").stdout
    assert "<outbound average='500' peak='600' burst='70'/>" in xml, xml
    assert "inbound average='1000'" in xml, xml  # the live change is not in the config

    # blkdeviotune: the XML's limit, then a new one live, in KiB/s on the machine.
    out = d.virsh("blkdeviotune", "io", "xvda").stdout
    assert re.search(r"total_bytes_sec\s*:\s*4194304\b", out), out
    r = d.hvctl("blkdeviotune", str(domid), "xvda")
    assert r.returncode == 0 and "average=4096 " in r.stdout, r.stdout + r.stderr
    d.virsh("blkdeviotune", "io", "xvda", "--total-bytes-sec", "1048576", "--live")
    out = d.virsh("blkdeviotune", "io", "xvda").stdout
    assert re.search(r"total_bytes_sec\s*:\s*1048576\b", out), out
    assert "average=1024 " in d.hvctl("blkdeviotune", str(domid), "xvda").stdout
    r = d.virsh("blkdeviotune", "io", "xvda", "--read-bytes-sec", "1000", "--live", check=False)
    assert r.returncode != 0 and "reads and writes separately" in r.stderr, r.stderr

    # Destroyed: the holder lets go of the files and the TAP.
    d.virsh("destroy", "io")
    b = backing(d)
    assert not re.search(r"(?m)^%d " % domid, b), b
    deadline = time.time() + 5
    while time.time() < deadline:
        try:
            socket.if_nametoindex(TAP)
        except OSError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("TAP %s still exists after destroy" % TAP)

    # Started again: the same file, the pattern read back; a wrong one is noticed.
    d.virsh("start", "io")
    domid2 = d.domid("io")
    assert domid2 != domid
    d.wait_guest_shell(domid2)
    sh = Shell(d, "io")
    try:
        sh.run("blk read 0 256 41", b"blk read: 256 sectors at 0 verified seed 41")
        out = sh.run("blk read 0 8 42", b"does not hold pattern 42")
    finally:
        sh.close()
    # The limits of the XML are back (the live change was not kept).
    assert re.search(r"inbound.average:\s*1000\b", d.virsh("domiftune", "io", TAP).stdout)
    d.virsh("destroy", "io")
    d.virsh("undefine", "io")
    assert "PANIC" not in d.serial()


@needs_machine
def test_network_type_is_refused(real, tmp_path):
    """type='network' needs libvirt's network driver: starting says so, nothing is left."""
    d = real
    disk = str(tmp_path / "n.img")
    with open(disk, "wb") as f:
        f.truncate(1 << 20)
    xml = XML.format(kernel=rh.GUEST, disk=disk, rodisk=disk, tap=TAP, net=NET, ip="")
    xml = xml.replace("<interface type='ethernet'>",
                      "<interface type='network'>\n      <source network='default'/>", 1)
    xml = re.sub(r"<disk type='file' device='disk'>\s*<source file='[^']*'/>\s*"
                 r"<target dev='xvdb' bus='xen'/>\s*<readonly/>\s*</disk>", "", xml)
    path = os.path.join(d.dir, "net.xml")
    with open(path, "w") as f:
        f.write(xml)
    d.virsh("define", path)
    r = d.virsh("start", "io", check=False)
    assert r.returncode != 0 and "type='network'" in r.stderr, r.stderr
    assert d.state("io").startswith("shut off"), d.state("io")
    assert backing(d).strip() == ""
    assert rh.HV_MACHINE and not d.hv_domains()
    d.virsh("undefine", "io")


def test_example_domain_is_valid(daemon):
    """examples/io-domain.xml (the README's) is a valid definition and keeps its devices."""
    src = os.path.join(os.environ.get("HV_SRCDIR", os.path.join(os.path.dirname(__file__),
                                                                  "..", "..")),
                       "examples", "io-domain.xml")
    daemon.virsh("define", "--validate", src)
    xml = daemon.virsh("dumpxml", "io").stdout
    assert "<source file='/var/lib/hv/images/io.img'/>" in xml, xml
    assert "<ip address='10.77.0.1' prefix='24'/>" in xml and "<target dev='hvio0'/>" in xml
    assert "<total_bytes_sec>10485760</total_bytes_sec>" in xml, xml


def test_io_counters_of_the_simulation(daemon):
    """domblkstat and domifstat on the simulated machine: it moves no data, so every count is
    0; unknown devices and stopped domains are refused."""
    daemon.define("st", 3, disk=True)
    r = daemon.virsh("domblkstat", "st", "xvda", check=False)
    assert r.returncode != 0 and "domain is not running" in r.stderr, r.stderr
    daemon.virsh("start", "st")
    out = daemon.virsh("domblkstat", "st", "xvda").stdout
    assert re.search(r"rd_req\s+0\b", out) and re.search(r"wr_bytes\s+0\b", out), out
    out = daemon.virsh("domblkstat", "st", "/var/lib/hv/images/st.img").stdout
    assert re.search(r"errs\s+0\b", out), out
    out = daemon.virsh("domifstat", "st", "vif3.0").stdout
    assert re.search(r"rx_bytes\s+0\b", out) and re.search(r"tx_drop\s+0\b", out), out
    r = daemon.virsh("domblkstat", "st", "xvdz", check=False)
    assert r.returncode != 0 and "invalid path: xvdz" in r.stderr, r.stderr
    r = daemon.virsh("domifstat", "st", "vif9.9", check=False)
    assert r.returncode != 0 and "'vif9.9' is not a known interface" in r.stderr, r.stderr
