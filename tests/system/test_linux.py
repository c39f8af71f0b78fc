"""Unmodified Linux (Debian's linux-image-amd64, a bzImage with an xz payload) on hv.

The test initramfs is built now from Debian's busybox-static (tests/linux/make-initramfs.sh):
its /init prints LINUX-PV-MARKER, runs uname, /proc/cpuinfo, a timed fork/exec loop and a
memory toucher, prints LINUX-PV-DONE and powers off.

- Native: the same kernel and initramfs booted directly by QEMU (console on ttyS0).
- dom0: hv builds dom0 from the bzImage itself (module 0; xz decoded in hv) with the
  initramfs as module 1 (mod_start / SIF_MOD_START_PFN) and the command line; Linux reaches
  its /init, runs the commands, powers off, and hv reports "domain 0 shutdown: poweroff".
  With 1 vCPU, and with 2 (dom0_max_vcpus=2, hv's scheduler).
- The boot time (Linux's uptime when /init starts, and the host's wall clock from QEMU's start
  to the marker) and the fork/exec loop of both runs are compared and written to
  tests/out/linux-pv-compare.txt (docs/linux-pv.md records a run).

Skipped with the reason when /boot has no vmlinuz or busybox-static is not installed.

QEMU's TCG reads the stack of a CPL-3 IRETQ with a supervisor access, so with SMAP on, Linux's
sync_core() (an IRETQ to itself) faults; hv completes that IRETQ itself (traps-pv.c), so the
runs use the harness's default CPU (SMEP and SMAP on).
"""

import os
import re
import time

import pytest

from hvtest import Machine, build_path
from linux_images import build_test_initramfs, require_linux_kernel

MARKER = r"LINUX-PV-MARKER"
DONE = r"LINUX-PV-DONE"
UPTIME = r"uptime-at-init: ([0-9.]+)"
FORKEXEC = r"forkexec: (\d+) loops from ([0-9.]+) to ([0-9.]+)"
LOOPS = 200


@pytest.fixture(scope="module")
def kernel():
    return require_linux_kernel()


@pytest.fixture(scope="module")
def initramfs():
    return build_test_initramfs("linux-test-initramfs.cpio", LOOPS)


def run_checks(m, prefix, marker_timeout=300):
    """Waits for the initramfs' lines (prefix: the console prefix, '(d0) ' on hv)."""
    t0 = time.monotonic()
    p = re.escape(prefix)
    m.wait_for("^" + p + MARKER, timeout=marker_timeout)
    wall = time.monotonic() - t0
    up = float(m.wait_for(p + UPTIME, timeout=30).group(1))
    m.wait_for("^" + p + r"Linux \S+ \d+\.\d+\.\d+\S* .*x86_64", timeout=30)
    cpus = int(m.wait_for("^" + p + r"cpus: (\d+)", timeout=30).group(1))
    fe = m.wait_for(p + FORKEXEC, timeout=300)
    m.wait_for("^" + p + r"memtouch: \d+ MiB ok", timeout=120)
    m.wait_for("^" + p + DONE, timeout=30)
    loops, start, end = int(fe.group(1)), float(fe.group(2)), float(fe.group(3))
    assert loops == LOOPS
    return {"wall_to_marker": wall, "uptime_at_init": up, "forkexec_s": end - start,
            "cpus": cpus}


def boot_native(kernel, initramfs):
    with Machine(kernel=kernel, cmdline="console=ttyS0 panic=-1",
                 modules=[(initramfs, "")], mem="512M", timeout=400,
                 name="linux-native") as m:
        r = run_checks(m, "")
        m.wait_for(r"reboot: Power down", timeout=60)
        m.wait_exit(timeout=30)
    assert r["cpus"] == 1
    return r


def boot_dom0(kernel, initramfs, cpus, marker_timeout=300):
    hv_cmdline = "on_dom0_exit=exit dom0_mem=256M" + (f" dom0_max_vcpus={cpus}" if cpus > 1 else "")
    # With two vCPUs, QEMU 7.2's TCG itself sometimes segfaults (memory_region_dispatch_write)
    # while Linux sizes the BARs of the emulated VGA card (1234:1111), about one boot in five;
    # dom0's console is hvc0, so the two-vCPU boot runs without a VGA card.
    extra = ("-vga", "none") if cpus > 1 else ()
    with Machine(kernel=build_path("hv/hv.elf"), cmdline=hv_cmdline,
                 modules=[(kernel, "console=hvc0 earlyprintk=xen"), (initramfs, "")],
                 cpus=cpus, mem="512M", timeout=500, name=f"linux-dom0-{cpus}cpu",
                 extra_args=extra) as m:
        m.wait_for(r"^dom0: bzImage: xz payload of \d+ KiB decoded to a \d+ KiB ELF", timeout=120)
        m.wait_for(r"^dom0: linux kernel, 256 MiB", timeout=60)
        r = run_checks(m, "(d0) ", marker_timeout)
        m.wait_for(r"^domain 0 shutdown: poweroff \(code 0\)", timeout=60)
        m.wait_for(r"^hv: exit 0$", timeout=30)
        status = m.wait_exit(timeout=30)
        output = m.output()
    assert status == 1, "hv exits 0 after dom0's poweroff"
    assert "crashed" not in output and "PANIC" not in output
    assert r["cpus"] == cpus
    return r


def test_native_and_dom0(kernel, initramfs):
    """Native, then dom0 with 1 vCPU, in one test so that the comparison sees both."""
    n = boot_native(kernel, initramfs)
    p = boot_dom0(kernel, initramfs, 1)
    lines = [f"{'':28}{'native':>10}{'hv dom0':>10}{'PV/native':>11}"]
    for key, label in (("uptime_at_init", "Linux uptime at /init (s)"),
                       ("wall_to_marker", "QEMU start to marker (s)"),
                       ("forkexec_s", f"fork/exec x{LOOPS} (s)")):
        lines.append(f"{label:28}{n[key]:10.2f}{p[key]:10.2f}{p[key] / n[key]:11.2f}")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(build_path("tests/out"), "linux-pv-compare.txt"), "w") as f:
        f.write(text)
    print("\n" + text)
    assert n["forkexec_s"] > 0 and p["forkexec_s"] > 0


def test_dom0_2vcpus(kernel, initramfs):
    # Linux starts CPU1 with IOPL 1 in its VCPUOP_initialise context and writes to the VGA
    # cursor ports from it in its first printk; hv once dropped that IOPL, CPU1's cpuhp thread
    # died on the #GP and the boot waited for it for ever (guest-kernel st-smp checks the IOPL).
    boot_dom0(kernel, initramfs, 2, marker_timeout=200)
