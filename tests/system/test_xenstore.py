"""XenStore end to end: hv's builder gives each domU a store page and port, dom0's xenstored
(guest-kernel `agent`) serves them, and a domU's client (guest-kernel arch/pv/xenbus.c)
checks the store from inside with `xstest` on its command line.

One machine (tools/hv-machine: QEMU with hv `sched=resv`, 2 pCPUs, dom0 = guest.elf `agent`)
serves the module:
- a domU runs xstest: reads, writes, directories, removal, what it may not touch (dom0's nodes,
  the root, its own name), watches (the initial event, the path-prefix rule, removal, unwatch,
  absolute and special watches, control/shutdown as Linux sets it), transactions, permissions,
  malformed requests (each answered with its error while the store keeps serving), 400
  random requests (each answered): every check passes; destroying it removes /local/domain/<id> (dom0 says so after checking);
- two domUs at once each pass on their own directory;
- a domU that corrupts its ring indices (`xshostile`) is cut off, and another is served;
- with a network interface (hvctl create --nic), the domU finds its device nodes and the back
  end's, in InitWait, pointing at each other, and may not write the back end's state.
Every process is killed at the end, pass or fail.
"""

import os
import re
import time

import pytest

from held_machine import HV, GUEST, HV_MACHINE, HVCTL, held_machine, hvctl, serial


pytestmark = pytest.mark.skipif(
    not all(os.path.exists(p) for p in (HV, GUEST, HV_MACHINE, HVCTL)),
    reason="hv, guest.elf, hv-machine or hvctl not built")


@pytest.fixture(scope="module")
def machine():
    with held_machine("xenstore.log", prefix="hvxs-") as d:
        yield d


def wait_serial(d, regex, timeout=90):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        m = re.search(regex, serial(d), re.M)
        if m:
            return m
        time.sleep(0.3)
    raise AssertionError(f"{regex!r} not in the serial log:\n{serial(d)[-4000:]}")


def create(d, *extra, cmdline="xstest shell"):
    out = hvctl(d, "create", GUEST, "--memory", "16", "--cmdline", cmdline, *extra).stdout
    return int(out.split()[0])


def xstest_lines(d, domid):
    """The domU's xstest lines once its summary is there: {check: 'ok' or 'FAIL ...'}."""
    m = wait_serial(d, rf"^\(d{domid}\) xstest: (\d+) checks, (\d+) failed$")
    lines = re.findall(rf"^\(d{domid}\) xstest: (.+): (ok|FAIL.*)$", serial(d), re.M)
    return int(m.group(1)), int(m.group(2)), dict(lines)


def destroy_and_check_gone(d, domid):
    hvctl(d, "destroy", str(domid))
    m = wait_serial(d, rf"^\(d0\) xenstored: domain {domid} detached \((\d+) requests\), "
                       rf"/local/domain/{domid} (\S+ ?\S*)$", timeout=30)
    assert m.group(2) == "removed", m.group(0)
    return int(m.group(1))


def test_domu_checks_its_store(machine):
    domid = create(machine)
    wait_serial(machine, rf"^\(d0\) xenstored: domain {domid} attached \(page 0x[0-9a-f]+, "
                         rf"port \d+\), /local/domain/{domid} made$")
    wait_serial(machine, rf"^\(d{domid}\) xenbus: store at mfn 0x[0-9a-f]+, port \d+$")
    total, failed, lines = xstest_lines(machine, domid)
    bad = {k: v for k, v in lines.items() if v != "ok"}
    assert failed == 0 and not bad, bad
    assert total >= 50 and len(lines) == total, (total, lines)
    for name in ("read dom0's node: EACCES", "write outside: EACCES", "initial event",
                 "event below", "no event for a sibling", "event on removal",
                 "no event after unwatch", "transaction end", "oversized request: E2BIG",
                 "still serving", "give the node away: EPERM", "watch control/shutdown"):
        assert lines.get(name) == "ok", (name, lines)
    wait_serial(machine, rf"^\(d{domid}\) hvguest: starting /bin/sh")
    requests = destroy_and_check_gone(machine, domid)
    assert requests >= total, (requests, total)
    assert "PANIC" not in serial(machine)


def test_two_domus_at_once(machine):
    a = create(machine)
    b = create(machine)
    for domid in (a, b):
        total, failed, lines = xstest_lines(machine, domid)
        assert failed == 0 and total >= 46, {k: v for k, v in lines.items() if v != "ok"}
    for domid in (a, b):
        destroy_and_check_gone(machine, domid)


def test_hostile_domu_is_cut_off_others_served(machine):
    bad = create(machine, cmdline="xshostile shell")
    wait_serial(machine, rf"^\(d0\) xenstored: domain {bad} corrupted its request ring "
                         rf"indices; cut off$")
    wait_serial(machine, rf"^\(d{bad}\) xshostile: cut off \(error 2\)$")
    wait_serial(machine, rf"^\(d{bad}\) hvguest: starting /bin/sh")
    good = create(machine)
    total, failed, lines = xstest_lines(machine, good)
    assert failed == 0 and total >= 46, {k: v for k, v in lines.items() if v != "ok"}
    destroy_and_check_gone(machine, bad)
    destroy_and_check_gone(machine, good)
    assert "PANIC" not in serial(machine)


def test_device_nodes_seen_from_the_domu(machine):
    if "--nic" not in hvctl(machine, "create", "--help", check=False).stdout + \
            hvctl(machine, "create", "--help", check=False).stderr:
        pytest.skip("hvctl create has no --nic")
    r = hvctl(machine, "create", GUEST, "--memory", "16", "--cmdline", "xstest shell",
              "--nic", "auto", check=False)
    if r.returncode != 0 and re.search(r"TAP|tun|permission", r.stderr, re.I):
        pytest.skip(f"no TAP for the interface here: {r.stderr.strip()}")
    assert r.returncode == 0, r.stdout + r.stderr
    domid = int(r.stdout.split()[0])
    wait_serial(machine, rf"^\(d0\) devices: vif 0 of domain {domid} added$")
    total, failed, lines = xstest_lines(machine, domid)
    assert lines.get("vif 0 nodes") == "ok", lines
    assert failed == 0, {k: v for k, v in lines.items() if v != "ok"}
    wait_serial(machine, rf"^\(d{domid}\) xenbus: vif 0: ")
    hvctl(machine, "destroy", str(domid))
    wait_serial(machine, rf"^\(d0\) devices: vif 0 of domain {domid} removed$", timeout=30)
    wait_serial(machine, rf"^\(d0\) xenstored: domain {domid} detached \(\d+ requests\), "
                         rf"/local/domain/{domid} removed$", timeout=30)
