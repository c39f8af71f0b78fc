"""guest-kernel's user processes, driven non-interactively through the shell.

The same guest-kernel image runs natively (QEMU -kernel, multiboot), as dom0 on hv and as dom0
on the real Xen 4.17 (the reference for the PV MMU use), with a kernel command line `-- cmd; cmd; ...`: pid 1 is the shell running those commands. Checked: 1000 fork/exec/wait, a ring of 16 processes joined by
pipes, copy-on-write, faulting processes are killed while the kernel lives on, the user
self-tests pass, and the memory in use (`free`) is the same before and after.
"""

import gzip
import os
import re
import shutil

import pytest

from hvtest import Machine, build_path

XEN_IMAGE = os.environ.get("XEN_IMAGE", "/boot/xen-4.17-amd64.gz")

SCRIPT = ("free; forktest 1000; pipering 16 100; cowtest; faulttest; selftest; ps; free; "
          "poweroff")


def run_on_hv(script, timeout=300):
    with Machine(kernel=build_path("hv/hv.elf"), cmdline="on_dom0_exit=exit",
                 modules=[(build_path("guest-kernel/guest.elf"), f"-- {script}")],
                 cpus=1, mem="512M", timeout=timeout, name="guest-procs-pv") as m:
        m.wait_for(r"^\(d0\) hvguest: power off requested", timeout=timeout - 20)
        m.wait_for(r"^domain 0 shutdown: poweroff", timeout=30)
        m.wait_exit(timeout=30)
        return m.output()


def run_native(script, timeout=300):
    with Machine(kernel=build_path("guest-kernel/guest.elf"), cmdline=f"-- {script}",
                 cpus=1, mem="512M", timeout=timeout, name="guest-procs-native") as m:
        m.wait_for(r"^hvguest: power off requested", timeout=timeout - 20)
        m.wait_for(r"^native: power off", timeout=30)
        assert m.wait_exit(timeout=30) == 1  # isa-debug-exit with 0
        return m.output()


def check_script_output(out):
    assert "forktest: 1000 processes ok" in out
    assert re.search(r"pipering: 16 processes, 100 rounds, token 1600 ok", out)
    assert out.count("cowtest: ok") == 2  # once alone, once inside selftest
    assert "faulttest: 3 faulting processes killed, kernel alive" in out
    killed = re.findall(r"pid \d+ \(\w+\): killed: exception 14", out)
    assert len(killed) == 6
    assert re.search(r"selftest: user summary: 7 passed, 0 failed", out)
    assert "FAIL" not in out
    used = [int(u) for u in re.findall(r"free: \d+ pages free of \d+ \(used (\d+)\)", out)]
    assert len(used) == 2 and used[0] == used[1], f"memory in use before/after: {used}"
    assert "panic" not in out and "PANIC" not in out


def test_processes_on_hv():
    check_script_output(run_on_hv(SCRIPT))


def test_processes_native():
    check_script_output(run_native(SCRIPT))


def test_processes_on_real_xen(tmp_path):
    if not os.path.exists(XEN_IMAGE):
        pytest.skip(f"{XEN_IMAGE} missing: install xen-hypervisor-4.17-amd64")
    xen = tmp_path / "xen"
    with gzip.open(XEN_IMAGE, "rb") as src, open(xen, "wb") as dst:
        shutil.copyfileobj(src, dst)
    with Machine(kernel=str(xen),
                 cmdline="console=com1 com1=115200,8n1 dom0_mem=64M noreboot sync_console",
                 modules=[(build_path("guest-kernel/guest.elf"), f"-- {SCRIPT}")],
                 extra_args=["-cpu", "max,-smap,-smep,-pku"], timeout=600,
                 name="guest-procs-xen") as m:
        m.wait_for(r"hvguest: power off requested", timeout=560)
        m.wait_for(r"Hardware Dom0 halted", timeout=30)
        out = m.output()
    check_script_output(out)
