"""hv's paravirtual core, seen from a PV kernel running on it as dom0.

- guest-kernel/guest.elf with `selftest` exercises every hypercall, hostile arguments included
  (developed against real Xen 4.17): every line must PASS, the summary must say 0 failed, and
  hv must report the guest's clean shutdown and end the run with the guest's reason.
- Every `fatal=<case>` the guest kernel knows (read from its source table) must end in
  `domain 0 crashed: <reason>` while hv itself stays up: with on_dom0_exit=exit it ends the
  run with status 1 (QEMU 3); without, it says it is alive and keeps idling.
- The Xen Test Framework's pv64 tests that hv is expected to pass (`example`, `selftest`, the
  CPUID/MSR policy, IOPL emulation, and the XSA proofs of concept whose interfaces hv has),
  when an XTF build is present (HV_XTF_DIR, default /tmp/xtf): "Test result: SUCCESS". XTF is not part of this tree; to
  run these, build it outside (andyhhp/xtf, tested at 453490d, plain `make` with gcc):
      git clone https://xenbits.xen.org/git-http/xtf.git /tmp/xtf   # or github andyhhp/xtf
      make -C /tmp/xtf -j2 TESTS="tests/example tests/selftest"
  Each test-pv64-<name> ELF is booted as dom0 (boot module 0, no arguments).
"""

import os
import re

import pytest

from hvtest import Machine, build_path, source_path

QEMU_STATUS_HV_EXIT_0 = 1  # isa-debug-exit: (0 << 1) | 1
QEMU_STATUS_HV_EXIT_1 = 3  # (1 << 1) | 1

DOM0_START = r"^dom0: (\S+) kernel, (\d+) MiB, entry (0x[0-9a-f]+)"
SUMMARY = r"^\(d0\) selftest: summary: (\d+) passed, (\d+) failed"
SHUTDOWN = r"^domain 0 shutdown: (\w+) \(code (\d+)\)"
CRASHED = r"^domain 0 crashed: (.+)$"


def hv():
    return build_path("hv/hv.elf")


def guest():
    return build_path("guest-kernel/guest.elf")


def fatal_cases():
    """The names in the guest kernel's table of deliberately fatal actions."""
    with open(source_path("guest-kernel/arch/pv/fatal.c")) as f:
        table = f.read().split("pv_fatal_cases[]", 1)[1]
    return re.findall(r'\{\s*"(\w+)"', table)


@pytest.mark.parametrize("cpus", [1, 2])
def test_dom0_selftest(cpus):
    with Machine(kernel=hv(), cmdline="on_dom0_exit=exit", modules=[(guest(), "selftest")],
                 cpus=cpus, mem="512M", timeout=180, name=f"pv-selftest-{cpus}cpu") as m:
        start = m.wait_for(DOM0_START, timeout=60)
        summary = m.wait_for(SUMMARY, timeout=150)
        shutdown = m.wait_for(SHUTDOWN, timeout=30)
        m.wait_for(r"^hv: exit 0$", timeout=30)
        status = m.wait_exit(timeout=30)
        output = m.output()

    assert int(start.group(2)) == 64, "dom0_mem defaults to 64M"
    results = re.findall(r"^\(d0\) selftest: (\w+): (PASS|FAIL)", output, re.M)
    failed = [name for name, verdict in results if verdict != "PASS"]
    assert not failed, f"guest self-tests failed on hv: {failed}"
    passed, nfailed = int(summary.group(1)), int(summary.group(2))
    assert nfailed == 0
    assert passed == len(results) and passed >= 40, f"{passed} passed of {len(results)} lines"
    assert (shutdown.group(1), shutdown.group(2)) == ("poweroff", "0")
    assert "PANIC" not in output
    assert "crashed" not in output
    assert status == QEMU_STATUS_HV_EXIT_0


def test_dom0_user_processes():
    """The guest kernel's user space on hv: fork (user L4s, pins, multicalls), copy-on-write
    (writable-page-table and mmu_update paths), user faults killed by the guest, pipes and
    sleeping (events, timers, blocking)."""
    cmds = "forktest; cowtest; faulttest; pipering; sleep 1; echo all-done"
    with Machine(kernel=hv(), cmdline="on_dom0_exit=exit", modules=[(guest(), f"-- {cmds}")],
                 cpus=1, mem="512M", timeout=180, name="pv-user-processes") as m:
        m.wait_for(r"^\(d0\) forktest: \d+ processes ok", timeout=120)
        m.wait_for(r"^\(d0\) cowtest: ok", timeout=60)
        m.wait_for(r"^\(d0\) faulttest: .*kernel alive", timeout=60)
        m.wait_for(r"^\(d0\) pipering: .* ok", timeout=60)
        m.wait_for(r"^\(d0\) all-done", timeout=60)
        shutdown = m.wait_for(SHUTDOWN, timeout=30)
        status = m.wait_exit(timeout=30)
        output = m.output()
    assert shutdown.group(1) == "poweroff"
    assert "crashed" not in output and "PANIC" not in output
    assert status == QEMU_STATUS_HV_EXIT_0


def test_dom0_selftest_without_smep_smap():
    """hv must work with SMEP/SMAP off too (its guest-access path then runs without STAC)."""
    with Machine(kernel=hv(), cmdline="on_dom0_exit=exit", modules=[(guest(), "selftest")],
                 cpus=1, mem="512M", timeout=180, name="pv-selftest-nosmap",
                 extra_args=["-cpu", "max,-smap,-smep"]) as m:
        cpu = m.wait_for(r"^cpu: (.*)$", timeout=60)
        summary = m.wait_for(SUMMARY, timeout=150)
        m.wait_for(SHUTDOWN, timeout=30)
        status = m.wait_exit(timeout=30)
    assert "smap" not in cpu.group(1).split() and "smep" not in cpu.group(1).split()
    assert int(summary.group(2)) == 0
    assert status == QEMU_STATUS_HV_EXIT_0


def test_dom0_mem_option():
    with Machine(kernel=hv(), cmdline="dom0_mem=32M on_dom0_exit=exit",
                 modules=[(guest(), "")], cpus=1, mem="512M", timeout=120,
                 name="pv-dom0-mem") as m:
        start = m.wait_for(DOM0_START, timeout=60)
        pages = m.wait_for(r"^\(d0\) pv: xen-3\.0-x86_64, start_info \S+, (\d+) pages, flags (0x[0-9a-f]+)",
                           timeout=60)
        m.wait_for(SHUTDOWN, timeout=60)
        status = m.wait_exit(timeout=30)
    assert int(start.group(2)) == 32
    assert int(pages.group(1)) == 32 * 256
    assert int(pages.group(2), 16) & 3 == 3, "SIF_PRIVILEGED | SIF_INITDOMAIN"
    assert status == QEMU_STATUS_HV_EXIT_0


@pytest.mark.parametrize("case", fatal_cases())
def test_dom0_fatal_case_crashes_only_the_domain(case):
    with Machine(kernel=hv(), cmdline="on_dom0_exit=exit", modules=[(guest(), f"fatal={case}")],
                 cpus=1, mem="512M", timeout=120, name=f"pv-fatal-{case}") as m:
        m.wait_for(DOM0_START, timeout=60)
        m.wait_for(rf"^\(d0\) fatal: {case}:", timeout=60)
        crashed = m.wait_for(CRASHED, timeout=30)
        m.wait_for(r"^hv: exit 1$", timeout=30)
        status = m.wait_exit(timeout=30)
        output = m.output()

    assert crashed.group(1).strip()
    assert "still alive" not in output, "the guest survived its fatal action"
    assert "PANIC" not in output
    assert status == QEMU_STATUS_HV_EXIT_1


def test_hv_stays_alive_after_dom0_crash():
    case = fatal_cases()[0]
    with Machine(kernel=hv(), cmdline="", modules=[(guest(), f"fatal={case}")], cpus=2,
                 mem="512M", timeout=120, name="pv-fatal-alive") as m:
        m.wait_for(CRASHED, timeout=90)
        m.wait_for(r"^hv: alive after domain 0 exit$", timeout=30)
        output = m.output()
    assert "PANIC" not in output


# XTF pv64 tests hv passes, with their variation argument (XTF's "~variation" configs).
# Not (yet) here, by missing interface: debug-regs (CR4.DE, I/O breakpoints), memop-seg (x86
# emulator), xsa-188 (FIFO events), xsa-255 (grant v2), xsa-316 (must
# run as a domU), xsa-260/265 (QEMU TCG has no MOV SS shadow for #DB), xsa-296
# (VCPUOP_initialise), xsa-298 (LDT call gates).
XTF_PASSING = [("example", ""), ("selftest", ""), ("cpuid", ""), ("msr", ""), ("rtm-check", ""),
               ("pv-iopl", "hypercall"), ("pv-iopl", "vmassist"), ("xsa-122", ""),
               ("xsa-182", ""), ("xsa-193", ""), ("xsa-212", ""), ("xsa-213", ""),
               ("xsa-221", ""), ("xsa-224", ""), ("xsa-227", ""), ("xsa-231", ""), ("xsa-232", ""),
               ("xsa-234", ""),
               ("xsa-259", ""), ("xsa-279", ""), ("xsa-286", ""), ("xsa-317", ""),
               ("xsa-333", ""), ("xsa-339", ""), ("xsa-7", "")]


def xtf_test(name):
    root = os.environ.get("HV_XTF_DIR", "/tmp/xtf")
    path = os.path.join(root, "tests", name, f"test-pv64-{name}")
    if not os.path.isfile(path):
        pytest.skip(f"no XTF build at {root} (set HV_XTF_DIR to an XTF tree built with make)")
    return path


@pytest.mark.parametrize("name,variation", XTF_PASSING,
                         ids=[f"{n}~{v}" if v else n for n, v in XTF_PASSING])
def test_xtf_pv64(name, variation):
    image = xtf_test(name)
    with Machine(kernel=hv(), cmdline="on_dom0_exit=exit", modules=[(image, variation)], cpus=1,
                 mem="512M", timeout=120, name=f"pv-xtf-{name}{variation}") as m:
        result = m.wait_for(r"^\(d0\) Test result: (\w+)", timeout=90)
        shutdown = m.wait_for(SHUTDOWN, timeout=30)
        status = m.wait_exit(timeout=30)
        output = m.output()
    assert result.group(1) == "SUCCESS", output[-2000:]
    assert shutdown.group(1) == "poweroff"
    assert status == QEMU_STATUS_HV_EXIT_0
