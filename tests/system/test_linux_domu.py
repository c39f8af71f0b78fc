"""Unmodified Linux (Debian's linux-image-amd64, the bzImage from /boot) as a PV domU on hv.

The machine runs hv with our guest-kernel as dom0 (its control agent on the management link);
the domU is created the way a user does it, with hvctl over the link:

    hvctl create /boot/vmlinuz-* --ramdisk init.cpio --memory 256 --vcpus N \
        --cmdline "console=hvc0 earlyprintk=xen"

The kernel and the ramdisk travel on the link's bulk channel to dom0's agent, which hands both to
hv (HV_DOMCTL_build_buffer); hv decodes the bzImage's xz payload and builds the domain with the
ramdisk after its mapped region (SIF_MOD_START_PFN). Linux's console is hvc0 on the domU's
console ring, which dom0's console back end drains; the test reads it with `hvctl console`.
The initramfs (tests/linux/make-initramfs.sh, from busybox-static) prints LINUX-PV-MARKER, runs
uname, /proc/cpuinfo, a timed fork/exec loop and a memory toucher, prints LINUX-PV-DONE and
powers off; hv reports "domain N shutdown: poweroff" and `hvctl info` the shutdown reason.

- test_native_and_domu: the same kernel and initramfs booted directly by QEMU (native, one CPU)
  and as a one-vCPU domU in the same run; boot time and the fork/exec loop are compared
  (tests/out/linux-domu-compare.txt; docs/linux-pv.md records a run). Marked `serial`: its
  figures are timings of the emulated machine.
- test_domu_2vcpus: the domU with two vCPUs (hv's scheduler on, sched=resv) sees both CPUs.
- test_ramdisk_over_the_link: the ramdisk path with guest-kernel as the kernel (seconds, no
  Linux): placed by hv, the 16 MiB limit refused with a message, memory back after destroy.

Each Linux boot takes minutes under TCG. The Linux tests are skipped with the reason when /boot
has no vmlinuz or busybox-static is missing; all when hv, dom0 or the tools are not built.
"""

import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from hvtest import Machine, accel, build_path
from linux_images import build_test_initramfs, require_linux_kernel

HV = build_path("hv/hv.elf")
GUEST = build_path("guest-kernel/guest.elf")
HV_MACHINE = build_path("tools/hv-machine/hv-machine")
HVCTL = build_path("tools/hvctl/hvctl")

LOOPS = 200
DOMU_MIB = 256
DOMU_CMDLINE = "console=hvc0 earlyprintk=xen"

pytestmark = pytest.mark.skipif(
    not all(os.path.exists(p) for p in (HV, GUEST, HV_MACHINE, HVCTL)),
    reason="hv, guest.elf or the tools are not built")


@pytest.fixture(scope="module")
def kernel():
    return require_linux_kernel()


@pytest.fixture(scope="module")
def initramfs():
    return build_test_initramfs("linux-domu-initramfs.cpio", LOOPS)


def _hvctl(machine_dir, *args, timeout=60):
    return subprocess.run([HVCTL, "--machine", machine_dir, "--timeout", str(timeout), *args],
                          capture_output=True, text=True, timeout=timeout + 30)


class HvMachine:
    """hv with guest-kernel dom0 (its agent attached to the link), held by hv-machine."""

    def __init__(self, name, hv_cmdline="", cpus=2, mem_mib=1024):
        self.dir = tempfile.mkdtemp(prefix="hvlx-")
        self.serial = os.path.join(build_path("tests/out"), f"{name}.serial.log")
        os.makedirs(os.path.dirname(self.serial), exist_ok=True)
        args = [HV_MACHINE, "start", "--detach", "--dir", self.dir, "--hv", HV,
                "--dom0", GUEST, "--dom0-cmdline", "agent", "--cpus", str(cpus),
                "--memory", str(mem_mib), "--accel", accel(), "--serial-log", self.serial,
                "--wait-agent", "120"]
        if hv_cmdline:
            args += ["--cmdline", hv_cmdline]
        r = subprocess.run(args, capture_output=True, text=True, timeout=200)
        if r.returncode != 0:
            self.stop()
            raise AssertionError(f"hv-machine start failed: {r.stdout}{r.stderr}")

    def serial_log(self):
        with open(self.serial, errors="replace") as f:
            return f.read()

    def wait_serial(self, regex, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            m = re.search(regex, self.serial_log(), re.M)
            if m:
                return m
            time.sleep(0.5)
        raise AssertionError(f"no {regex!r} on hv's console ({self.serial})")

    def stop(self):
        subprocess.run([HV_MACHINE, "stop", "--dir", self.dir], capture_output=True, text=True,
                       timeout=90)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class DomUConsole:
    """A domU's console as `hvctl console --once` gives it, gathered (each read returns what is
    new since the last one); `wait_for` looks at everything gathered so far. A copy goes to
    tests/out/<machine>.console.log."""

    def __init__(self, machine, domid):
        self.machine, self.domid, self.text = machine, domid, ""
        self.log = machine.serial.replace(".serial.log", ".console.log")
        open(self.log, "w").close()

    def read(self):
        r = _hvctl(self.machine.dir, "console", self.domid, "--once", timeout=30)
        assert r.returncode == 0, r
        self.text += r.stdout.replace("\r", "")
        with open(self.log, "a") as f:
            f.write(r.stdout.replace("\r", ""))

    def wait_for(self, regex, timeout):
        end = time.monotonic() + timeout
        while True:
            self.read()
            m = re.search(regex, self.text, re.M)
            if m:
                return m
            if time.monotonic() > end:
                raise AssertionError(f"no {regex!r} on the console of domain {self.domid} "
                                     f"({self.log}); the last of it:\n{self.text[-3000:]}")
            time.sleep(0.5)


def boot_domu(m, kernel, initramfs, vcpus, marker_timeout=400):
    """Creates the Linux domU over the link, follows its console to the end of /init, checks
    hv's shutdown report; returns the timings."""
    t0 = time.monotonic()
    r = _hvctl(m.dir, "create", kernel, "--ramdisk", initramfs, "--memory", str(DOMU_MIB),
               "--vcpus", str(vcpus), "--cmdline", DOMU_CMDLINE, timeout=300)
    assert r.returncode == 0, r
    domid = r.stdout.split()[0]
    m.wait_serial(rf"^domain {domid}: bzImage: xz payload of \d+ KiB decoded to a \d+ KiB ELF",
                  30)
    m.wait_serial(rf"^domain {domid} built: linux kernel, {DOMU_MIB * 1024} KiB, entry ", 30)
    rd_kib = os.path.getsize(initramfs) >> 10
    m.wait_serial(rf"^domain {domid}: ramdisk of {rd_kib} KiB at pfn 0x[0-9a-f]+ "
                  r"\(SIF_MOD_START_PFN\)$", 30)
    con = DomUConsole(m, domid)
    con.wait_for(r"^LINUX-PV-MARKER$", marker_timeout)
    wall = time.monotonic() - t0
    # Linux knows it is a PV guest on "Xen" (its early lines reach hv's console through
    # earlyprintk=xen, console_io), and the rest of its console is the ring (hvc0).
    early = m.serial_log() + con.text
    assert re.search(rf"(?m)^\(d{domid}\) \[ *[0-9.]+\] Hypervisor detected: Xen PV$", early)
    assert re.search(r"(?m)^(\(d\d+\) )?\[ *[0-9.]+\] Booting kernel on Xen$", early)
    assert "printk: console [hvc0] enabled" in early
    up = float(con.wait_for(r"uptime-at-init: ([0-9.]+)", 30).group(1))
    con.wait_for(r"^Linux \S+ \d+\.\d+\.\d+\S* .*x86_64", 30)
    cpus = int(con.wait_for(r"^cpus: (\d+)$", 30).group(1))
    fe = con.wait_for(r"forkexec: (\d+) loops from ([0-9.]+) to ([0-9.]+)", 300)
    con.wait_for(r"^memtouch: \d+ MiB ok$", 120)
    con.wait_for(r"^LINUX-PV-DONE$", 30)
    # poweroff -f: Linux asks hv (SCHEDOP_shutdown); hv says so, and the domain's state says why.
    m.wait_serial(rf"^domain {domid} shutdown: poweroff \(code 0\)$", 60)
    info = _hvctl(m.dir, "info", domid)
    assert info.returncode == 0, info
    assert re.search(r"(?m)^state: shutdown$", info.stdout), info.stdout
    assert re.search(r"(?m)^shutdown_reason: poweroff$", info.stdout), info.stdout
    assert "crashed" not in m.serial_log()
    assert _hvctl(m.dir, "destroy", domid).returncode == 0
    assert int(fe.group(1)) == LOOPS
    return {"wall_to_marker": wall, "uptime_at_init": up,
            "forkexec_s": float(fe.group(3)) - float(fe.group(2)), "cpus": cpus}


def boot_native(kernel, initramfs):
    """The same kernel and initramfs directly on the machine (console on ttyS0)."""
    with Machine(kernel=kernel, cmdline="console=ttyS0 panic=-1", modules=[(initramfs, "")],
                 mem="512M", timeout=500, name="linux-domu-native") as m:
        t0 = time.monotonic()
        m.wait_for(r"^LINUX-PV-MARKER", timeout=400)
        wall = time.monotonic() - t0
        up = float(m.wait_for(r"uptime-at-init: ([0-9.]+)", timeout=30).group(1))
        cpus = int(m.wait_for(r"^cpus: (\d+)", timeout=30).group(1))
        fe = m.wait_for(r"forkexec: (\d+) loops from ([0-9.]+) to ([0-9.]+)", timeout=300)
        m.wait_for(r"^LINUX-PV-DONE", timeout=150)
        m.wait_for(r"reboot: Power down", timeout=60)
        m.wait_exit(timeout=30)
    return {"wall_to_marker": wall, "uptime_at_init": up,
            "forkexec_s": float(fe.group(3)) - float(fe.group(2)), "cpus": cpus}


@pytest.mark.serial
def test_native_and_domu(kernel, initramfs):
    """Native, then a one-vCPU domU, in one test so that the comparison sees both."""
    n = boot_native(kernel, initramfs)
    with HvMachine("linux-domu-1vcpu") as m:
        d = boot_domu(m, kernel, initramfs, 1)
    assert n["cpus"] == 1 and d["cpus"] == 1
    lines = [f"{'':28}{'native':>10}{'hv domU':>10}{'PV/native':>11}"]
    for key, label in (("uptime_at_init", "Linux uptime at /init (s)"),
                       ("wall_to_marker", "start to marker (s)"),
                       ("forkexec_s", f"fork/exec x{LOOPS} (s)")):
        lines.append(f"{label:28}{n[key]:10.2f}{d[key]:10.2f}{d[key] / n[key]:11.2f}")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(build_path("tests/out"), "linux-domu-compare.txt"), "w") as f:
        f.write(text)
    print("\n" + text)
    assert n["forkexec_s"] > 0 and d["forkexec_s"] > 0


def test_domu_2vcpus(kernel, initramfs):
    """Two vCPUs: Linux brings up CPU1 with VCPUOP_initialise/up (hv's scheduler places both)."""
    with HvMachine("linux-domu-2vcpu", hv_cmdline="sched=resv") as m:
        d = boot_domu(m, kernel, initramfs, 2)
    assert d["cpus"] == 2


def test_ramdisk_over_the_link(tmp_path):
    """The ramdisk path without Linux (fast): guest-kernel as the domU's kernel with a 1 MiB
    ramdisk is built with it (hv says where it went); a ramdisk above the 16 MiB limit is refused
    with a message that says so and leaves no domain behind; memory comes back after destroy."""
    small = tmp_path / "small.img"
    small.write_bytes(os.urandom(1 << 20))
    big = tmp_path / "big.img"
    big.write_bytes(b"\0" * ((16 << 20) + 4096))
    with HvMachine("linux-domu-ramdisk", cpus=1, mem_mib=512) as m:
        def free_kib():
            r = _hvctl(m.dir, "physinfo")
            assert r.returncode == 0, r
            return int(re.search(r"(?m)^free_kib: (\d+)$", r.stdout).group(1))

        before = free_kib()
        r = _hvctl(m.dir, "create", GUEST, "--memory", "32", "--ramdisk", str(small),
                   "--cmdline", "domu=idle", "--paused")
        assert r.returncode == 0, r
        domid = r.stdout.split()[0]
        m.wait_serial(rf"^domain {domid}: ramdisk of 1024 KiB at pfn 0x[0-9a-f]+ \(", 30)
        assert _hvctl(m.dir, "destroy", domid).returncode == 0

        r = _hvctl(m.dir, "create", GUEST, "--memory", "32", "--ramdisk", str(big))
        assert r.returncode != 0, r
        assert "larger than 16 MiB" in r.stderr and "ramdisk" in r.stderr, r.stderr
        listing = _hvctl(m.dir, "list")
        assert listing.returncode == 0 and len(listing.stdout.strip().splitlines()) == 2, listing
        assert free_kib() == before
