"""guest-kernel's user processes, driven non-interactively through the shell.

The same guest-kernel image runs natively (QEMU -kernel, multiboot) and as dom0 on hv, with a
kernel command line `-- cmd; cmd; ...`: pid 1 is the shell running those commands. Checked: 1000 fork/exec/wait, a ring of 16 processes joined by
pipes, copy-on-write, faulting processes are killed while the kernel lives on, the user
self-tests pass, and the memory in use (`free`) is the same before and after.
"""

import re

from hvtest import Machine, build_path

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
