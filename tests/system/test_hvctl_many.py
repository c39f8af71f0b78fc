"""Eight domUs driven from the host with nothing but the hvctl command line (issue 7).

One machine (tools/hv-machine: QEMU with hv `sched=resv`, 2 pCPUs, dom0 = guest.elf `agent`,
the management link). From the host, only through tools/hvctl:
- physinfo gives hv's free memory; 8 domUs are created from guest.elf with a shell command line
  (16 MiB each, a name word of their own on the command line), the free memory falls by at
  least their size;
- `hvctl list` shows the 8 running with 1 vcpu and 16 MiB each;
- each domU's console (`hvctl console --once`) shows its own banner, its own command line and
  the shell's prompt; a command typed into one console is answered on that console;
- scheduler parameters are changed and read back (`sched-set`, `sched-get`); a reservation that
  does not fit is refused and changes nothing;
- a paused domU is reported paused, runs no more (CPU time flat, console input not answered)
  and after `unpause` is running and answers the input it was given while paused;
- `hvctl shutdown` gives state shutdown, reason poweroff; a domU whose shell runs `poweroff`
  gets there by itself;
- the rest are destroyed: only dom0 is listed, the domUs are gone, and hv's free memory is back
  where it was before the first create.
Every process is stopped at the end, pass or fail; the serial log is kept in
tests/out/hvctl-many.log.
"""

import os
import re
import signal
import subprocess
import time

import pytest

from held_machine import HV, GUEST, HV_MACHINE, HVCTL, held_machine, hvctl, serial

NDOMU = 8
DOMU_MIB = 16
PROMPT = "$ "

pytestmark = pytest.mark.skipif(
    not all(os.path.exists(p) for p in (HV, GUEST, HV_MACHINE, HVCTL)),
    reason="hv, guest.elf, hv-machine or hvctl not built")


@pytest.fixture
def machine():
    with held_machine("hvctl-many.log", prefix="hvmany-") as d:
        yield d


def fields(text):
    return dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)


def listing(d):
    """hvctl list as {domid: (state, vcpus, mem_kib, max_kib, cpu_ms)}, header checked."""
    lines = hvctl(d, "list").stdout.splitlines()
    assert lines[0].split() == ["DOMID", "STATE", "VCPUS", "MEM_KIB", "MAX_KIB",
                                "CPU_TIME_MS"], lines
    rows = {}
    for line in lines[1:]:
        f = line.split()
        assert len(f) == 6, line
        rows[int(f[0])] = (f[1], int(f[2]), int(f[3]), int(f[4]), int(f[5]))
    return rows


def free_kib(d):
    return int(fields(hvctl(d, "physinfo").stdout)["free_kib"])


def console_until(d, domid, needle, timeout=60):
    """Reads domid's console with `hvctl console --once` until the text read contains needle;
    returns all of it. (The host's read cursor is dom0's: what was read is not read again.)"""
    text = ""
    end = time.monotonic() + timeout
    while needle not in text:
        assert time.monotonic() < end, f"{needle!r} not on d{domid}'s console: {text!r}"
        text += hvctl(d, "console", str(domid), "--once").stdout
        if needle not in text:
            time.sleep(0.2)
    return text


def console_type(d, domid, line, out_path):
    """Starts `hvctl console DOMID` with line as its input, output to out_path; the caller
    stops it (SIGINT) when done."""
    out = open(out_path, "w")
    p = subprocess.Popen([HVCTL, "--machine", d, "--timeout", "30", "console", str(domid)],
                         stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True)
    out.close()
    p.stdin.write(line + "\n")
    p.stdin.close()  # hvctl keeps showing output after its input ends
    return p


def stop_console(p):
    p.send_signal(signal.SIGINT)
    try:
        assert p.wait(timeout=30) == 0
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def wait_file(path, regex, timeout=60):
    end = time.monotonic() + timeout
    text = ""
    while time.monotonic() < end:
        with open(path, errors="replace") as f:
            text = f.read()
        if re.search(regex, text, re.M):
            return text
        time.sleep(0.2)
    raise AssertionError(f"{regex!r} not in {path} within {timeout} s: {text!r}")


def test_eight_domus_with_hvctl_only(machine, tmp_path):
    d = machine
    free0 = free_kib(d)
    assert list(listing(d)) == [0]

    # Create: each domU gets a word of its own on the shell's command line.
    names = {}
    for i in range(1, NDOMU + 1):
        out = hvctl(d, "create", GUEST, "--memory", str(DOMU_MIB), "--cmdline",
                    f"shell name=vm{i}", "--name", f"vm{i}").stdout.split()
        assert len(out) == 2 and out[1] == f"vm{i}", out
        names[int(out[0])] = f"vm{i}"
    domus = sorted(names)
    assert len(set(domus)) == NDOMU and 0 not in domus
    assert free_kib(d) <= free0 - NDOMU * DOMU_MIB * 1024

    # List: all eight running, 1 vcpu, 16 MiB.
    rows = listing(d)
    assert sorted(rows) == [0] + domus, rows
    for domid in domus:
        state, vcpus, mem, maxmem, _ = rows[domid]
        assert (state, vcpus, mem, maxmem) == ("running", 1, DOMU_MIB * 1024,
                                               DOMU_MIB * 1024), (domid, rows[domid])

    # Consoles: each shows its own banner and command line, then the shell's prompt.
    for domid in domus:
        text = console_until(d, domid, "starting /bin/sh\n" + PROMPT)
        assert re.search(r"^hvguest \S+ on xen-pv: \d+ pages free", text, re.M), text
        assert f"command line: shell name={names[domid]}\n" in text, (domid, text)
        for other in set(names.values()) - {names[domid]}:
            assert f"name={other}\n" not in text, (domid, other, text)
    # Input typed into one console is answered on that one.
    first = domus[0]
    p = console_type(d, first, f"echo typed-into-{names[first]}", tmp_path / "c1.out")
    try:
        wait_file(tmp_path / "c1.out", rf"^typed-into-{names[first]}\r?$")
    finally:
        stop_console(p)

    # Scheduler parameters: set, read back; a reservation that cannot fit is refused.
    target = domus[1]
    assert fields(hvctl(d, "sched-get", str(target)).stdout) == {
        "weight": "256", "cap": "0", "reservation": "0"}
    hvctl(d, "sched-set", str(target), "--weight", "512", "--cap", "50", "--reservation", "10")
    want = {"weight": "512", "cap": "50", "reservation": "10"}
    assert fields(hvctl(d, "sched-get", str(target)).stdout) == want
    r = hvctl(d, "sched-set", str(target), "--reservation", "300", check=False)
    assert r.returncode == 1 and r.stderr.startswith("hvctl: sched-set: "), r
    assert fields(hvctl(d, "sched-get", str(target)).stdout) == want
    hvctl(d, "sched-set", str(target), "--weight", "128")  # the others keep their values
    assert fields(hvctl(d, "sched-get", str(target)).stdout) == dict(want, weight="128")

    # Pause: state paused, no CPU time, typed input not answered; unpause: it answers.
    paused = domus[2]
    hvctl(d, "pause", str(paused))
    assert fields(hvctl(d, "info", str(paused)).stdout)["state"] == "paused"
    assert listing(d)[paused][0] == "paused"
    cpu0 = int(fields(hvctl(d, "info", str(paused)).stdout)["cpu_time_ns"])
    p = console_type(d, paused, f"echo after-resume-{names[paused]}", tmp_path / "c2.out")
    try:
        time.sleep(2)
        assert int(fields(hvctl(d, "info", str(paused)).stdout)["cpu_time_ns"]) == cpu0
        with open(tmp_path / "c2.out") as f:
            assert "after-resume" not in f.read()
        hvctl(d, "unpause", str(paused))
        assert fields(hvctl(d, "info", str(paused)).stdout)["state"] == "running"
        wait_file(tmp_path / "c2.out", rf"^after-resume-{names[paused]}\r?$")
    finally:
        stop_console(p)
    assert int(fields(hvctl(d, "info", str(paused)).stdout)["cpu_time_ns"]) > cpu0
    assert listing(d)[paused][0] == "running"

    # Shutdown through hvctl: state shutdown, reason poweroff.
    down = domus[3]
    hvctl(d, "shutdown", str(down))
    end = time.monotonic() + 30
    while fields(hvctl(d, "info", str(down)).stdout)["state"] != "shutdown":
        assert time.monotonic() < end, hvctl(d, "info", str(down)).stdout
        time.sleep(0.2)
    info = fields(hvctl(d, "info", str(down)).stdout)
    assert info["shutdown_reason"] == "poweroff", info
    assert listing(d)[down][0] == "shutdown"
    # ... and one that powers itself off from its shell.
    own = domus[4]
    p = console_type(d, own, "poweroff", tmp_path / "c3.out")
    try:
        end = time.monotonic() + 60
        while fields(hvctl(d, "info", str(own)).stdout)["state"] != "shutdown":
            assert time.monotonic() < end, hvctl(d, "info", str(own)).stdout
            time.sleep(0.2)
    finally:
        stop_console(p)
    assert fields(hvctl(d, "info", str(own)).stdout)["shutdown_reason"] == "poweroff"
    assert re.search(rf"^\(d{own}\) hvguest: power off requested", serial(d), re.M)
    # The others kept running through all of it.
    rows = listing(d)
    for domid in set(domus) - {down, own}:
        assert rows[domid][0] == "running", (domid, rows)

    # Destroy every domU (shut down or running): only dom0 is left, the memory is back.
    for domid in domus:
        hvctl(d, "destroy", str(domid))
    assert list(listing(d)) == [0]
    for domid in domus:
        r = hvctl(d, "info", str(domid), check=False)
        assert r.returncode == 1 and f"domain {domid}" in r.stderr, r
    assert free_kib(d) == free0
