"""The control plane end to end: host (hvctl, tests/system/link-client) -> management link ->
dom0's agent (guest-kernel `agent` mode) -> hv's control hypercall -> back.

One machine (tools/hv-machine: QEMU with hv, dom0 = guest.elf `agent`, the ivshmem-doorbell
link) serves the whole module:
- dom0 finds the ivshmem device on PCI, maps its BARs, gets its MSI-X interrupts from hv as
  an event, attaches; HELLO, physinfo (hv's free memory) and the domain list (dom0) answer;
- malformed requests (unknown types, bad and truncated lengths, a wrong interface version, bulk
  messages out of order, ...) each get the expected error while the agent keeps serving;
- a domU is created from an image sent over the link, listed, paused, unpaused, destroyed, and
  hv's free memory is back where it was; another runs a command and powers itself off;
- idle, dom0 does not poll: its CPU time stays flat;
- the image transfer and round-trip benchmark (tools/hv-machine/bench-link) runs to the end.
Every process is killed at the end, pass or fail.
"""

import os
import re
import subprocess
import time

import pytest

from held_machine import HV, HV_MACHINE, HVCTL, held_machine, hvctl
from held_machine import serial as _serial
from hvtest import accel, build_path

DOM0 = build_path("guest-kernel/guest.elf")
LINK_CLIENT = build_path("tests/system/link-client")
BENCH = build_path("tools/hv-machine/bench-link")

pytestmark = pytest.mark.skipif(
    not all(os.path.exists(p) for p in (HV, DOM0, HV_MACHINE, HVCTL, LINK_CLIENT)),
    reason="hv, guest.elf, hv-machine, hvctl or link-client not built")


@pytest.fixture(scope="module")
def machine():
    with held_machine("control-link.log", prefix="hvcl-") as d:
        yield d


def fields(text):
    return dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)


def domains(d):
    rows = hvctl(d, "list").stdout.splitlines()[1:]
    return {int(r.split()[0]): r.split() for r in rows}


def has_domctl(d):
    r = hvctl(d, "physinfo", check=False)
    return r.returncode == 0


def wait_serial(d, regex, timeout=60):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        m = re.search(regex, _serial(d), re.M)
        if m:
            return m
        time.sleep(0.2)
    raise AssertionError(f"{regex!r} not in the serial log:\n{_serial(d)[-3000:]}")


def test_dom0_attaches_through_pci_and_pirqs(machine):
    log = _serial(machine)
    assert re.search(r"^\(d0\) dom0: ivshmem at [0-9a-f]{2}:[0-9a-f]{2}\.\d, BAR0 0x[0-9a-f]+ "
                     r"\(256\), BAR2 0x[0-9a-f]+ \(8192 KiB\), MSI-X 2 entries", log, re.M), log
    assert re.search(r"^physdev: d0 pirq 16 = MSI-X entry 0 of .*vector 0x60", log, re.M), log
    assert re.search(r"^physdev: d0 pirq 17 = MSI-X entry 1 of .*vector 0x61", log, re.M), log
    assert re.search(r"^\(d0\) agent: attached to the link \(generation \d+, 5 channels\)",
                     log, re.M), log
    assert "PANIC" not in log


def test_hello_physinfo_and_list(machine):
    if not has_domctl(machine):
        pytest.skip("hv without the control hypercall (physinfo answers -ENOSYS)")
    info = fields(hvctl(machine, "physinfo").stdout)
    assert info["hv_version"].startswith("4.17"), info
    assert info["link_version"] == "1.1" and info["interface_version"] == "2", info
    assert int(info["nr_cpus"]) == 2, info
    assert 0 < int(info["free_kib"]) < int(info["total_kib"]) <= 512 * 1024, info
    doms = domains(machine)
    assert 0 in doms and doms[0][1] == "running", doms


def test_malformed_requests_get_errors(machine):
    r = subprocess.run([LINK_CLIENT, machine], capture_output=True, text=True, timeout=180)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert len(re.findall(r"^ok ", r.stdout, re.M)) >= 16, out
    assert re.search(r"^link-client: \d+ cases, 0 failed$", r.stdout, re.M), out
    # ... and the agent still answers typed calls afterwards.
    assert hvctl(machine, "list", check=False).returncode in (0, 1)
    assert "agent: the host broke the link" not in _serial(machine)


def test_domu_lifecycle_over_the_link(machine):
    if not has_domctl(machine):
        pytest.skip("hv without the control hypercall")
    free0 = int(fields(hvctl(machine, "physinfo").stdout)["free_kib"])
    out = hvctl(machine, "create", DOM0, "--memory", "16", "--cmdline", "shell",
                "--paused").stdout
    domid = int(out.split()[0])
    assert domains(machine)[domid][1] == "created"
    assert int(fields(hvctl(machine, "physinfo").stdout)["free_kib"]) <= free0 - 16 * 1024
    hvctl(machine, "unpause", str(domid))
    wait_serial(machine, rf"^\(d{domid}\) hvguest: starting /bin/sh")
    assert domains(machine)[domid][1] == "running"
    hvctl(machine, "pause", str(domid))
    assert fields(hvctl(machine, "info", str(domid)).stdout)["state"] == "paused"
    hvctl(machine, "unpause", str(domid))
    assert fields(hvctl(machine, "info", str(domid)).stdout)["state"] == "running"
    hvctl(machine, "destroy", str(domid))
    assert domid not in domains(machine)
    r = hvctl(machine, "info", str(domid), check=False)
    assert r.returncode == 1 and "hv answered -3" in r.stderr, r.stderr
    assert int(fields(hvctl(machine, "physinfo").stdout)["free_kib"]) == free0


def test_domu_runs_and_powers_off(machine):
    if not has_domctl(machine):
        pytest.skip("hv without the control hypercall")
    domid = int(hvctl(machine, "create", DOM0, "--memory", "16", "--cmdline",
                      "-- echo hello-from-the-link; exit").stdout.split()[0])
    wait_serial(machine, rf"^\(d{domid}\) hello-from-the-link$")
    end = time.monotonic() + 30
    while fields(hvctl(machine, "info", str(domid)).stdout)["state"] != "shutdown":
        assert time.monotonic() < end, hvctl(machine, "info", str(domid)).stdout
        time.sleep(0.2)
    hvctl(machine, "destroy", str(domid))


def test_idle_agent_does_not_poll(machine):
    if not has_domctl(machine):
        pytest.skip("hv without the control hypercall (no CPU time to read)")
    before = int(domains(machine)[0][5])
    time.sleep(3)
    after = int(domains(machine)[0][5])
    # Two list requests and a timer tick or two: far below what 3 s of polling would cost.
    assert after - before < 300, (before, after)


@pytest.mark.skipif(not os.path.exists(BENCH), reason="bench-link not built")
def test_bench_link_runs():
    r = subprocess.run([BENCH, "--hv", HV, "--dom0", DOM0, "--count", "200", "--transfers",
                        "2", "--image-mib", "4", "--accel", accel()],
                       capture_output=True, text=True, timeout=300)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert re.search(r"^transfer 2: 4 MiB in [\d.]+ ms", r.stdout, re.M), out
    assert re.search(r"^round trip ratio .*: [\d.]+", r.stdout, re.M), out
    assert re.search(r"^transfer / memcpy: [\d.]+", r.stdout, re.M), out
