"""virthvd with the REAL machine (backend=hvctl): virthvd starts QEMU with hv and dom0 (the
agent) itself, under TCG, through hv-machine; the stock clients (virsh, python3-libvirt) drive
domUs (guest-kernel's guest.elf running its shell) through hv+unix:///system?socket=...

Covers what hv supports today and checks that what it does not support (scheduler parameters
while hv answers -ENOSYS) is refused with VIR_ERR_OPERATION_UNSUPPORTED rather than faked. Then virthvd is killed with SIGKILL while
domains run and at random points of define and start: after a restart every definition is the
old or the new one and running domains are found again. Finally a clean stop of virthvd leaves
no QEMU behind.

One machine for the module (2 pCPUs, hv with its scheduler: sched=resv). Skipped when hv or the guest kernel is not built.
HV_KILL_ITERATIONS sets the number of random kills (default 20; the issue's figure is 100).
"""

import os
import random
import re
import signal
import subprocess
import threading
import time
import xml.etree.ElementTree as ET

import pytest

import conftest

libvirt = pytest.importorskip("libvirt")

B = conftest.BUILDDIR
# HV_TEST_IMAGES=DIR takes hv/hv.elf and guest-kernel/guest.elf from another build.
IMAGES = os.environ.get("HV_TEST_IMAGES", B)
HV = os.path.abspath(os.path.join(IMAGES, "hv", "hv.elf"))
GUEST = os.path.abspath(os.path.join(IMAGES, "guest-kernel", "guest.elf"))
HV_MACHINE = os.path.join(B, "tools", "hv-machine", "hv-machine")
HVCTL = os.path.join(B, "tools", "hvctl", "hvctl")

pytestmark = pytest.mark.skipif(
    not all(os.path.exists(p) for p in (HV, GUEST, HV_MACHINE, HVCTL)),
    reason="hv, guest.elf, hv-machine or hvctl not built")

def uuid(n):
    return "7a3f2c2a-8e1b-4f6e-9d1a-0b0c0d0e0f%02x" % n

DOMU_XML = """<domain type='hv'>
  <name>{name}</name>
  <uuid>{uuid}</uuid>
  <description>{desc}</description>
  <memory unit='MiB'>{mem}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>linux</type>
    <kernel>{kernel}</kernel>
    <cmdline>shell</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <console type='pty'>
      <target type='xen' port='0'/>
    </console>
  </devices>
</domain>
"""


IFACE_XML = """
    <interface type='bridge'>
      <mac address='00:16:3e:00:01:01'/>
      <source bridge='br0'/>
      <target dev='vif9.0'/>
    </interface>"""


def domu_xml(name, uuid, desc="v0", mem=16, iface=False):
    xml = DOMU_XML.format(name=name, uuid=uuid, desc=desc, mem=mem, kernel=GUEST)
    return xml.replace("<devices>", "<devices>" + IFACE_XML) if iface else xml


class RealDaemon(conftest.Daemon):
    """virthvd with backend=hvctl and its machine in <dir>/m."""

    def __init__(self, tmp):
        super().__init__(tmp)
        self.machine_dir = os.path.join(self.dir, "m")
        with open(self.conf, "w") as f:
            f.write("[virthvd]\nbackend=hvctl\nlog_level=debug\n"
                    "machine=start\nmachine_dir=%s\nhv_machine=%s\nhv_image=%s\n"
                    "dom0_kernel=%s\naccel=tcg\nmachine_cpus=2\nmachine_memory_mib=256\n"
                    "agent_timeout=90\nhv_cmdline=sched=resv\n" %
                    (self.machine_dir, HV_MACHINE, HV, GUEST))

    def start(self):
        logf = open(self.log, "a")
        self.proc = subprocess.Popen(
            [conftest.VIRTHVD, "--config", self.conf, "--socket-dir", self.dir,
             "--state-dir", os.path.join(self.dir, "state")],
            stdout=logf, stderr=subprocess.STDOUT)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("virthvd exited with %d:\n%s\n%s" %
                                   (self.proc.returncode, self.log_text(), self.serial()))
            if os.path.exists(self.sock_ro):
                return
            time.sleep(0.05)
        raise RuntimeError("virthvd did not create its sockets:\n" + self.log_text())

    def stop(self, timeout=60):
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        # A killed daemon leaves its sockets: the next one must not be fooled by them.
        for s in (self.sock, self.sock_ro):
            if os.path.exists(s):
                os.unlink(s)

    def serial(self):
        try:
            with open(os.path.join(self.machine_dir, "serial.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def hvctl(self, *args):
        return subprocess.run([HVCTL, "--machine", self.machine_dir] + list(args),
                              capture_output=True, text=True, timeout=30)

    def hv_domains(self):
        """{domid: state} of hv's domUs, as hvctl lists them."""
        r = self.hvctl("list")
        assert r.returncode == 0, r.stderr
        out = {}
        for line in r.stdout.splitlines()[1:]:
            f = line.split()
            if f and f[0] != "0":
                out[int(f[0])] = f[1]
        return out

    def wait_guest_shell(self, domid, timeout=60):
        """Waits for the guest's own line on hv's console: it booted to its shell."""
        want = "(d%d) hvguest: starting /bin/sh" % domid
        deadline = time.time() + timeout
        while time.time() < deadline:
            if want in self.serial():
                return
            time.sleep(0.1)
        raise AssertionError("domain %d did not reach its shell:\n%s" %
                             (domid, self.serial()[-3000:]))

    def write_xml(self, name, uuid, desc="v0", mem=16):
        path = os.path.join(self.dir, name + ".xml")
        with open(path, "w") as f:
            f.write(domu_xml(name, uuid, desc, mem))
        return path

    def domid(self, name):
        return int(self.virsh("domid", name).stdout.strip())

    def state(self, name):
        return self.virsh("domstate", "--reason", name).stdout.strip()


def qemu_pids(machine_dir):
    """QEMU processes whose command line names this machine's directory."""
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "qemu-system" in cmd and machine_dir in cmd:
            pids.append(int(p))
    return pids


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    d = RealDaemon(tmp_path_factory.mktemp("realhv"))
    try:
        d.start()
        yield d
    finally:
        d.stop()
        # Whatever happened, nothing of this machine may outlive the test.
        subprocess.run([HV_MACHINE, "stop", "--dir", d.machine_dir], capture_output=True,
                       timeout=60)
        for pid in qemu_pids(d.machine_dir):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(autouse=True)
def clean_machine(real):
    """Each test starts with no domain defined or running (one domU fits at a time), so a
    failed test does not take the next ones with it."""
    yield
    if not real.alive():
        return
    for name in real.virsh("list", "--all", "--name", check=False).stdout.split():
        real.virsh("destroy", name, check=False)
        real.virsh("undefine", name, check=False)


def wait_state(d, name, want, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        s = d.state(name)
        if s == want:
            return
        time.sleep(0.2)
    raise AssertionError("%s: state %r, expected %r\n%s" % (name, s, want, d.log_text()[-3000:]))


def test_virsh_lifecycle_on_real_hv(real):
    d = real
    r = d.virsh("nodeinfo")
    assert re.search(r"CPU\(s\):\s+2$", r.stdout, re.M), r.stdout
    assert re.search(r"Memory size:\s+\d+ KiB", r.stdout), r.stdout

    d.virsh("define", d.write_xml("web", uuid(1)))
    assert re.search(r"-\s+web\s+shut off", d.virsh("list", "--all").stdout)
    d.virsh("start", "web")
    domid = d.domid("web")
    assert d.hv_domains().get(domid) in ("running", "paused"), d.hv_domains()
    d.wait_guest_shell(domid)
    assert re.search(r"^\s*%d\s+web\s+running" % domid, d.virsh("list").stdout, re.M)
    info = d.virsh("dominfo", "web").stdout
    assert re.search(r"State:\s+running", info) and re.search(r"Max memory:\s+16384 KiB", info)
    assert re.search(r"CPU time:\s+\d+\.\d+s", info), info
    assert d.state("web") == "running (booted)"

    # Scheduler parameters: either hv applies them or the refusal says it cannot; never a
    # pretended success.
    r = d.virsh("schedinfo", "web", "--set", "weight=512", check=False)
    if r.returncode == 0:
        assert re.search(r"weight\s+:\s+512", d.virsh("schedinfo", "web").stdout)
    else:
        assert "Operation not supported" in r.stderr, r.stderr
        assert re.search(r"weight\s+:\s+256", d.virsh("schedinfo", "web").stdout)
    # A reservation hv can admit is applied; one that does not fit on any pCPU (hv keeps some
    # of each pCPU unreserved) is refused with an error that says so, and nothing changes.
    r = d.virsh("schedinfo", "web", "--set", "reservation=30", check=False)
    if r.returncode == 0:
        assert re.search(r"reservation\s+:\s+30", d.virsh("schedinfo", "web").stdout)
        r = d.virsh("schedinfo", "web", "--set", "reservation=100", check=False)
        assert r.returncode != 0 and "does not fit" in r.stderr, r.stderr
        assert re.search(r"reservation\s+:\s+30", d.virsh("schedinfo", "web").stdout)
    else:
        assert "Operation not supported" in r.stderr, r.stderr
    # --config changes the stored definition only.
    d.virsh("schedinfo", "web", "--config", "--set", "cap=50")
    assert re.search(r"cap\s+:\s+50", d.virsh("schedinfo", "web", "--config").stdout)

    # Memory through hv's control interface.
    d.virsh("setmem", "web", "12M", "--live")
    d.virsh("memtune", "web", "--min-guarantee", "8192", "--live")
    assert re.search(r"min_guarantee\s+:\s+8192", d.virsh("memtune", "web").stdout)
    r = d.virsh("vcpuinfo", "web").stdout
    assert re.search(r"VCPU:\s+0", r) and re.search(r"State:\s+running", r), r
    # No interface, so domiftune has nothing to tune; the error names it.
    r = d.virsh("domiftune", "web", "vif0", check=False)
    assert r.returncode != 0 and "vif0" in r.stderr

    d.virsh("suspend", "web")
    assert d.state("web") == "paused (user)"
    assert d.hv_domains()[domid] == "paused"
    d.virsh("resume", "web")
    assert d.state("web") == "running (unpaused)"
    assert d.hv_domains()[domid] == "running"

    # A guest reboot: hv cannot reset a domain in place, so it is built again (new domid).
    d.virsh("reboot", "web")
    deadline = time.time() + 30
    while d.domid("web") == domid and time.time() < deadline:
        time.sleep(0.2)
    rebooted = d.domid("web")
    assert rebooted > domid and d.state("web").startswith("running"), d.log_text()[-2000:]
    assert domid not in d.hv_domains()
    domid = rebooted
    d.wait_guest_shell(domid)

    d.virsh("shutdown", "web")
    wait_state(d, "web", "shut off (shutdown)")
    assert domid not in d.hv_domains()

    d.virsh("start", "web")
    domid2 = d.domid("web")
    assert domid2 > domid
    d.wait_guest_shell(domid2)
    d.virsh("destroy", "web")
    assert d.state("web") == "shut off (destroyed)"
    assert domid2 not in d.hv_domains()
    d.virsh("undefine", "web")
    assert "web" not in d.virsh("list", "--all").stdout
    assert "PANIC" not in d.serial()


def test_events_on_real_hv(real):
    d = real
    ev = subprocess.Popen(["virsh", "-c", d.uri, "event", "--loop", "--all", "--timeout", "90"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(1)
        d.virsh("define", d.write_xml("evt", uuid(2)))
        d.virsh("start", "evt")
        d.wait_guest_shell(d.domid("evt"))
        d.virsh("suspend", "evt")
        d.virsh("resume", "evt")
        d.virsh("shutdown", "evt")  # hv powers it off: SHUTDOWN event from the machine
        wait_state(d, "evt", "shut off (shutdown)")
        d.virsh("undefine", "evt")
        time.sleep(1)
    finally:
        ev.send_signal(signal.SIGINT)
        out = ev.communicate(timeout=10)[0]
    want = ["Defined Added", "Started Booted", "Suspended Paused", "Resumed Unpaused",
            "Shutdown Finished", "Stopped Shutdown", "Undefined Removed"]
    got = [l.split(": ", 1)[1] for l in out.splitlines() if "for domain 'evt'" in l]
    assert got == want, out


def test_python_api_on_real_hv(real):
    d = real
    c = libvirt.open(d.uri)
    try:
        assert c.getType() == "hv"
        node = c.getInfo()
        assert node[2] == 2 and node[1] > 0  # cpus, memory MiB
        dom = c.defineXML(domu_xml("api", uuid(3)))
        assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_UNKNOWN]
        dom.create()
        d.wait_guest_shell(dom.ID())
        st, maxmem, mem, nvcpu, cputime = dom.info()
        assert st == libvirt.VIR_DOMAIN_RUNNING and maxmem == 16384 and nvcpu == 1
        stats = c.getAllDomainStats()
        mine = [s for dm, s in stats if dm.name() == "api"]
        assert mine and mine[0]["state.state"] == libvirt.VIR_DOMAIN_RUNNING, stats
        assert mine[0]["balloon.maximum"] == 16384 and mine[0]["vcpu.current"] == 1
        assert mine[0]["cpu.time"] > 0
        try:
            dom.setSchedulerParameters({"weight": 1024})
            assert dom.schedulerParameters()["weight"] == 1024
        except libvirt.libvirtError as e:
            assert e.get_error_code() == libvirt.VIR_ERR_OPERATION_UNSUPPORTED, e
            assert dom.schedulerParameters()["weight"] == 256
        dom.setMemoryFlags(14 * 1024, libvirt.VIR_DOMAIN_AFFECT_LIVE)
        # The console is served (test_virsh_console_on_real_hv): a stream opens.
        st_ = c.newStream(0)
        dom.openConsole(None, st_, 0)
        st_.abort()
        dom.suspend()
        assert dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED
        dom.resume()
        dom.destroy()
        assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED]
        dom.undefine()
    finally:
        c.close()


def test_virsh_console_on_real_hv(real):
    """virsh console on a pty: the domU's shell prompt (kept by dom0's console back end while
    nobody listened) is shown, and a command typed runs with its output shown."""
    import test_events_console
    d = real
    if not d.alive():  # the tests before may have stopped it
        d.start()
    d.virsh("define", d.write_xml("con", uuid(9)))
    d.virsh("start", "con")
    d.wait_guest_shell(d.domid("con"))
    c = test_events_console.Pty(d.uri, "con")
    try:
        assert c.read_until(b"Connected to domain 'con'", 30), c.out
        assert c.read_until(b"starting /bin/sh", 30), c.out
        assert c.read_until(b"$ ", 30), c.out
        c.write(b"echo hello-console\r")
        assert c.read_until(b"echo hello-console\n", 30), c.out
        assert re.search(rb"echo hello-console\r?\nhello-console\r?\n", c.out) or \
            c.read_until(b"\nhello-console\n", 30), c.out
        c.write(b"\x1d")
        assert c.wait(30) == 0
        # virthvd keeps the console's log file (the XML has no <log>): under its machine dir.
        log = os.path.join(d.machine_dir, "console", "con.log")
        with open(log, errors="replace") as f:
            text = f.read()
        assert "starting /bin/sh" in text and "\nhello-console\n" in text, text
    finally:
        if c.pid:
            try:
                os.kill(c.pid, 9)
                os.waitpid(c.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass


def test_kill9_while_domains_run(real):
    d = real
    d.virsh("define", d.write_xml("k1", uuid(4)))
    d.virsh("start", "k1")
    id1 = d.domid("k1")
    d.wait_guest_shell(id1)
    d.virsh("suspend", "k1")
    d.kill9()
    assert d.hv_domains().get(id1) == "paused", "the domain must outlive virthvd"
    d.start()
    assert d.domid("k1") == id1
    assert d.state("k1") == "paused (user)"
    d.virsh("resume", "k1")
    d.kill9()
    d.start()
    assert d.state("k1") == "running (unpaused)"
    assert re.search(r"^\s*%d\s+k1\s+running" % id1, d.virsh("list").stdout, re.M)
    d.virsh("destroy", "k1")
    d.virsh("undefine", "k1")
    assert id1 not in d.hv_domains()


def test_kill9_at_random_points_of_define_and_start(real):
    d = real
    n = int(os.environ.get("HV_KILL_ITERATIONS", "20"))
    rnd = random.Random(4242)
    d.virsh("define", d.write_xml("rk", uuid(5), "v0"))
    versions = {"v0"}
    outcomes = {"found": 0, "off": 0}
    # Kills land anywhere from before the define to after the start: the window is a little
    # longer than a define and a start take on this machine now.
    t0 = time.time()
    d.virsh("define", d.write_xml("rk", uuid(5), "v0"))
    d.virsh("start", "rk")
    window = max(0.4, 1.5 * (time.time() - t0))
    d.virsh("destroy", "rk")
    for i in range(1, n + 1):
        new = "v%d" % i
        versions.add(new)
        path = d.write_xml("rk", uuid(5), new)
        running = d.state("rk").startswith("running")
        # define (a new version) then start or destroy, with a SIGKILL somewhere in between.
        cmds = [["define", path], ["destroy" if running else "start", "rk"]]
        t = threading.Thread(target=lambda: [subprocess.run(
            ["virsh", "-c", d.uri] + c, capture_output=True, timeout=30) for c in cmds])
        t.start()
        time.sleep(rnd.uniform(0.0, window))
        d.kill9()
        t.join(timeout=40)
        d.start()
        # The stored definition is whole: one of the versions, never half of one.
        xml = d.virsh("dumpxml", "--inactive", "rk").stdout
        desc = ET.fromstring(xml).findtext("description")
        assert desc in versions, xml
        files = os.listdir(os.path.join(d.dir, "state"))
        assert not [f for f in files if ".tmp" in f], files
        # Running domains are found again; no domain runs on hv that virthvd does not know.
        hv = {k: v for k, v in d.hv_domains().items() if v in ("running", "paused")}
        st = d.state("rk")
        if hv:
            assert len(hv) == 1, hv
            assert st.startswith("running") or st.startswith("paused"), (st, hv)
            assert d.domid("rk") in hv
            outcomes["found"] += 1
        else:
            outcomes["off"] += 1
            assert st.startswith("shut off"), (st, d.log_text()[-2000:])
    # The kills landed on both sides: some restarts found the domain running on hv again,
    # some found it shut off.
    assert outcomes["found"] and outcomes["off"], outcomes
    if d.state("rk").startswith(("running", "paused")):
        d.virsh("destroy", "rk")
    d.virsh("undefine", "rk")
    assert "PANIC" not in d.serial()


def test_bridge_interface(real):
    """A type='bridge' interface: the TAP that backs it becomes a port of the bridge, and its
    bandwidth is set in dom0 (domiftune --live); a bridge that does not exist is refused at
    start, naming it, and nothing is left (the rest of split I/O: test_io.py)."""
    d = real
    bridge = "hvbr%d" % (os.getpid() % 100000)
    path = os.path.join(d.dir, "bw.xml")
    with open(path, "w") as f:
        f.write(domu_xml("bw", uuid(6), iface=True).replace("'br0'", "'%s'" % bridge))
    d.virsh("define", path)
    r = d.virsh("start", "bw", check=False)
    assert r.returncode != 0 and "bridge %s" % bridge in r.stderr, r.stderr
    assert d.state("bw").startswith("shut off") and not d.hv_domains()
    if os.geteuid() == 0 and subprocess.run(["ip", "link", "add", bridge, "type", "bridge"],
                                            capture_output=True).returncode == 0:
        try:
            d.virsh("start", "bw")
            d.wait_guest_shell(d.domid("bw"))
            master = os.path.realpath("/sys/class/net/vif9.0/master")
            assert os.path.basename(master) == bridge, master
            d.virsh("domiftune", "bw", "vif9.0", "--inbound", "1000,2000,100", "--live")
            r = d.hvctl("domiftune", str(d.domid("bw")), "0")
            assert "inbound average=1000 peak=2000 burst=100" in r.stdout, r.stdout + r.stderr
            d.virsh("destroy", "bw")
        finally:
            subprocess.run(["ip", "link", "del", bridge], capture_output=True)
    d.virsh("undefine", "bw")


def test_clean_stop_leaves_no_qemu(real):
    d = real
    assert qemu_pids(d.machine_dir), "the machine should be running"
    assert d.stop() == 0, d.log_text()[-2000:]
    deadline = time.time() + 10
    while qemu_pids(d.machine_dir) and time.time() < deadline:
        time.sleep(0.2)
    assert not qemu_pids(d.machine_dir), "QEMU left running after virthvd stopped"
    assert "stopping the machine" in d.log_text()


def test_autostart_when_the_machine_starts(real):
    """After a clean stop (machine stopped too), a new virthvd starts a new machine and the
    autostart domain with it."""
    d = real
    if d.alive():
        d.stop()
    d.start()
    try:
        d.virsh("define", d.write_xml("auto", uuid(7)))
        d.virsh("autostart", "auto")
        assert d.stop() == 0
        assert not qemu_pids(d.machine_dir)
        d.start()
        assert d.state("auto") == "running (booted)", d.log_text()[-2000:]
        d.wait_guest_shell(d.domid("auto"))
        assert d.domid("auto") in d.hv_domains()
        d.virsh("destroy", "auto")
        d.virsh("autostart", "--disable", "auto")
        d.virsh("undefine", "auto")
    finally:
        assert d.stop() == 0
    assert not qemu_pids(d.machine_dir)


def test_machine_gone_shuts_domains_off(real):
    """The machine dies under virthvd (its holder killed, QEMU with it): the domains on it
    are reported shut off (crashed) with a STOPPED Failed event, not left 'running'."""
    d = real
    d.start()
    try:
        d.virsh("define", d.write_xml("lost", uuid(8)))
        d.virsh("start", "lost")
        d.wait_guest_shell(d.domid("lost"))
        ev = subprocess.Popen(["virsh", "-c", d.uri, "event", "--loop", "--all", "--timeout",
                               "30"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
        time.sleep(1)
        with open(os.path.join(d.machine_dir, "hv-machine.pid")) as f:
            os.kill(int(f.read().split()[0]), signal.SIGKILL)
        wait_state(d, "lost", "shut off (crashed)")
        ev.send_signal(signal.SIGINT)
        out = ev.communicate(timeout=10)[0]
        assert "for domain 'lost': Stopped Failed" in out, out
        deadline = time.time() + 10
        while qemu_pids(d.machine_dir) and time.time() < deadline:
            time.sleep(0.2)
        assert not qemu_pids(d.machine_dir)
        r = d.virsh("start", "lost", check=False)
        assert r.returncode != 0 and "machine" in r.stderr, r.stderr
        d.virsh("undefine", "lost")
    finally:
        d.stop()


def test_attach_to_a_machine_started_elsewhere(tmp_path):
    """machine=attach: virthvd uses a machine hv-machine started, and leaves it running."""
    d = RealDaemon(tmp_path)
    with open(d.conf) as f:
        conf = f.read().replace("machine=start", "machine=attach")
    with open(d.conf, "w") as f:
        f.write(conf)
    r = subprocess.run([HV_MACHINE, "start", "--dir", d.machine_dir, "--hv", HV, "--dom0", GUEST,
                        "--dom0-cmdline", "agent", "--cmdline", "sched=resv", "--cpus", "2",
                        "--memory", "256", "--accel", "tcg", "--wait-agent", "90", "--detach"],
                       capture_output=True, text=True, timeout=150)
    assert r.returncode == 0, r.stdout + r.stderr
    try:
        d.start()
        d.virsh("define", d.write_xml("att", uuid(9)))
        d.virsh("start", "att")
        domid = d.domid("att")
        d.wait_guest_shell(domid)
        assert d.stop() == 0
        assert qemu_pids(d.machine_dir), "virthvd stopped a machine it only attached to"
        assert d.hv_domains().get(domid) == "running"
        d.start()
        assert d.domid("att") == domid and d.state("att").startswith("running")
        d.virsh("destroy", "att")
        d.virsh("undefine", "att")
        assert d.stop() == 0
    finally:
        d.stop()
        subprocess.run([HV_MACHINE, "stop", "--dir", d.machine_dir], capture_output=True,
                       timeout=60)
        for pid in qemu_pids(d.machine_dir):
            os.kill(pid, signal.SIGKILL)
    assert not qemu_pids(d.machine_dir)
