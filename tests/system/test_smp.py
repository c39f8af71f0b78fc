"""SMP guests on hv's scheduler: dom0 with several vCPUs on 1, 2 and 4 pCPUs.

dom0 is guest-kernel/guest.elf in `selftest` mode with `dom0_max_vcpus=5` on hv's command line
(which turns the scheduler on). Its `smp` self-test (guest-kernel/arch/pv/st-smp.c) brings up
vCPUs 1-4 with VCPUOP_initialise/up, lets them spin while vCPU 0 sleeps, checks that the
runstate times of all vCPUs add up to the same elapsed time, bounces an event-channel IPI
1000 times between vCPU 0 and vCPU 1, and checks that a remap with UVMF_ALL reaches vCPU 1's
TLB. Here we also check the CPU share each spinning vCPU got: 4 spinners on P pCPUs get
min(100, 100 * P / 4) percent of a pCPU each (more vCPUs than pCPUs on 1 and 2 pCPUs).
"""

import os
import re

import pytest

from hvtest import Machine, build_path

SUMMARY = r"^\(d0\) selftest: summary: (\d+) passed, (\d+) failed"
SHARE = r"^\(d0\) smp: vcpu (\d+): (\d+) kloops, ([\d.]+)% of a pCPU$"
PINGPONG = r"^\(d0\) smp: ipi ping-pong: (\d+) round trips in (\d+) us$"


def run_selftest(cmdline, cpus, guest_args="selftest", timeout=240, name="smp"):
    with Machine(kernel=build_path("hv/hv.elf"), cmdline="on_dom0_exit=exit " + cmdline,
                 modules=[(build_path("guest-kernel/guest.elf"), guest_args)], cpus=cpus,
                 mem="512M", timeout=timeout, name=name) as m:
        summary = m.wait_for(SUMMARY, timeout=timeout - 20)
        m.wait_for(r"^hv: exit 0$", timeout=30)
        m.wait_exit(timeout=30)
        out = m.output()
    assert "PANIC" not in out
    assert summary.group(2) == "0", re.findall(r"^\(d0\) selftest: .*FAIL.*$", out, re.M)
    return out


@pytest.mark.serial
@pytest.mark.parametrize("cpus", [1, 2, 4])
def test_dom0_five_vcpus(cpus):
    out = run_selftest("dom0_max_vcpus=5", cpus, name=f"smp-5vcpu-{cpus}cpu")
    assert re.search(r"^sched: resv on %d pCPUs" % cpus, out, re.M)
    assert re.search(r"^\(d0\) smp: 5 vCPUs$", out, re.M)
    assert re.search(r"^\(d0\) selftest: smp: PASS$", out, re.M)

    shares = {int(v): float(p) for v, _, p in re.findall(SHARE, out, re.M)}
    assert sorted(shares) == [1, 2, 3, 4]
    want = min(100.0, 100.0 * cpus / 4)
    # hv charges wall-clock time: when the host stops running QEMU's vCPU threads (more emulated
    # CPUs than host cores, other machines booting beside this one), the vCPU that was current is
    # charged, so the shares are only checked on a host that is not overloaded (as test_sched).
    load, ncpu = os.getloadavg()[0], os.cpu_count() or 1
    if load <= 2 * ncpu:
        for vcpu, share in shares.items():
            assert abs(share - want) <= 3.0, f"vcpu {vcpu}: {share}% of a pCPU, expected {want}%"
    else:
        print(f"host load {load:.1f} on {ncpu} CPUs: shares not checked")
    assert sum(shares.values()) <= 100.0 * cpus + 0.5

    trips, us = map(int, re.search(PINGPONG, out, re.M).groups())
    assert trips == 1000
    print(f"{cpus} pCPUs: shares {shares}, IPI round trip {us / trips:.1f} us")


@pytest.mark.parametrize("cpus", [1, 2])
def test_one_vcpu_dom0_under_the_scheduler(cpus):
    """Today's one-domain behaviour with the scheduler in charge: every self-test passes."""
    out = run_selftest("sched=resv", cpus, name=f"smp-sched-1vcpu-{cpus}cpu")
    assert re.search(r"^sched: resv on %d pCPUs" % cpus, out, re.M)
    assert re.search(r"^\(d0\) selftest: smp: PASS$", out, re.M)
    assert not re.search(r"^\(d0\) smp: \d+ vCPUs$", out, re.M)


def test_bad_dom0_max_vcpus_is_one_vcpu():
    out = run_selftest("sched=resv dom0_max_vcpus=99", 1, name="smp-bad-max-vcpus")
    assert re.search(r"^sched: dom0_max_vcpus must be 1\.\.32; using 1$", out, re.M)
    assert not re.search(r"^\(d0\) smp: \d+ vCPUs$", out, re.M)
