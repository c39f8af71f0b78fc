"""guest-kernel on the real Xen 4.17 (Debian's xen-hypervisor-4.17-amd64) as dom0, under QEMU TCG.

This is the reference run of the guest kernel's PV platform: every self-test case (one line
"selftest: <name>: PASS|FAIL (...)" each, then a summary) must pass on real Xen, so that the same
image is a trustworthy probe of hv. One boot runs all self-tests; one more boot checks that a fatal
case makes Xen crash dom0 while Xen itself stays up. Both boots take about 10 s under TCG.

Xen needs SMEP/SMAP/PKU hidden under TCG (DESIGN.md, "the anchors"); QEMU's last -cpu wins, so
the override goes in extra_args. Xen is never run under KVM here (it dies on PVM).
"""

import gzip
import os
import re
import shutil

import pytest

from hvtest import Machine, build_path, source_path

XEN_IMAGE = os.environ.get("XEN_IMAGE", "/boot/xen-4.17-amd64.gz")
XEN_CMDLINE = ("console=com1 com1=115200,8n1 dom0_mem=64M loglvl=all guest_loglvl=all "
               "noreboot sync_console")
XEN_CPU = ["-cpu", "max,-smap,-smep,-pku"]


@pytest.fixture
def xen(tmp_path):
    """Xen as a plain multiboot image (QEMU's -kernel does not take the gzip)."""
    if not os.path.exists(XEN_IMAGE):
        pytest.skip(f"{XEN_IMAGE} missing: install xen-hypervisor-4.17-amd64 (scripts/install-deps)")
    path = tmp_path / "xen"
    with open(XEN_IMAGE, "rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        with gzip.open(XEN_IMAGE, "rb") as src, open(path, "wb") as dst:
            shutil.copyfileobj(src, dst)
    else:
        shutil.copyfile(XEN_IMAGE, path)
    return path


def boot_dom0(xen, guest_cmdline, name):
    return Machine(kernel=xen, cmdline=XEN_CMDLINE,
                   modules=[(build_path("guest-kernel/guest.elf"), guest_cmdline)],
                   extra_args=XEN_CPU, accelerator="tcg", timeout=240, name=name)


def listed_cases():
    """The case names in run order, from the table the kernel is built from."""
    with open(source_path("guest-kernel/arch/pv/selftests.h"), encoding="utf-8") as f:
        return re.findall(r'X\("([a-z0-9_]+)",', f.read())


def test_selftests_pass_on_xen(xen):
    cases = listed_cases()
    assert len(cases) >= 40, "the self-test table could not be read"
    with boot_dom0(xen, "selftest", "guest-xen-selftest") as m:
        summary = m.wait_for(r"^selftest: summary: (\d+) passed, (\d+) failed", timeout=200)
        m.wait_for(r"Hardware Dom0 halted", timeout=30)  # SCHEDOP_shutdown(poweroff) reached Xen
        out = m.output().replace("\r", "")

    results = dict(re.findall(r"^selftest: ([a-z0-9_]+): (PASS|FAIL.*)$", out, re.M))
    missing = [c for c in cases if c not in results]
    failed = {c: r for c, r in results.items() if r != "PASS"}
    assert not missing, f"cases without a result line: {missing}"
    assert not failed, f"cases failing on Xen: {failed}"
    assert int(summary.group(1)) == len(cases)
    assert int(summary.group(2)) == 0
    assert "panic:" not in out


def test_fatal_case_crashes_dom0_on_xen(xen):
    with boot_dom0(xen, "fatal=iret_to_user_without_user_l4", "guest-xen-fatal") as m:
        m.wait_for(r"^fatal: iret_to_user_without_user_l4:", timeout=200)
        m.wait_for(r"Hardware Dom0 crashed", timeout=60)
        out = m.output()
    assert "user mode with no user page tables" in out  # Xen's reason
    assert "still alive" not in out
