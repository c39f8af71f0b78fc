"""The split console end to end on the real machine: hv builds a domU (guest.elf running its
shell) with a console ring page and event channel; dom0's agent serves the ring (console-back.c)
and the link's console channel; hvctl reads the domU's output and writes its input.

Checks: the shell's prompt is read through the ring (not only on hv's console), a command typed
through the link runs and its output comes back, and the console of an unknown domain is refused
with a message naming it."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from hvtest import accel, build_path

HV = build_path("hv/hv.elf")
GUEST = build_path("guest-kernel/guest.elf")
HV_MACHINE = build_path("tools/hv-machine/hv-machine")
HVCTL = build_path("tools/hvctl/hvctl")

pytestmark = pytest.mark.skipif(
    not all(os.path.exists(p) for p in (HV, GUEST, HV_MACHINE, HVCTL)),
    reason="hv, guest.elf or the tools are not built")


def _hvctl(*args, timeout=60):
    return subprocess.run([HVCTL, *args], capture_output=True, text=True, timeout=timeout)


def _read_until(m, domid, pattern, timeout):
    """Reads the domU's console (hvctl console --once, repeatedly) until pattern matches the
    text gathered so far; returns that text."""
    got = ""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r = _hvctl(*m, "console", domid, "--once")
        assert r.returncode == 0, r
        got += r.stdout
        if re.search(pattern, got):
            return got
        time.sleep(0.2)
    raise AssertionError("no %r on the console of domain %s; got:\n%s" % (pattern, domid, got))


@pytest.fixture
def machine():
    d = tempfile.mkdtemp(prefix="hvc-")
    r = subprocess.run([HV_MACHINE, "start", "--detach", "--dir", d, "--hv", HV, "--dom0", GUEST,
                        "--dom0-cmdline", "agent", "--cpus", "2", "--accel", accel(),
                        "--wait-agent", "90"], capture_output=True, text=True, timeout=150)
    try:
        assert r.returncode == 0, r
        yield d
    finally:
        subprocess.run([HV_MACHINE, "stop", "--dir", d], capture_output=True, text=True,
                       timeout=90)
        shutil.rmtree(d, ignore_errors=True)


def test_console_shell_prompt_and_command(machine):
    m = ["--machine", machine, "--timeout", "30"]
    free_before = re.search(r"(?m)^free_kib: (\d+)$", _hvctl(*m, "physinfo").stdout).group(1)
    r = _hvctl(*m, "create", GUEST, "--memory", "32", "--cmdline", "shell")
    assert r.returncode == 0, r
    domid = r.stdout.split()[0]

    # The boot lines and the prompt come through the ring, dom0's log and the link.
    out = _read_until(m, domid, r"starting /bin/sh[\s\S]*\$ $", 90)
    assert "hvguest" in out

    # A command typed on the console: echoed by the kernel's line discipline, then run.
    con = subprocess.Popen([HVCTL, *m, "console", domid], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           start_new_session=True)
    try:
        con.stdin.write(b"echo hello-console\n")
        con.stdin.flush()
        seen = b""
        end = time.monotonic() + 60
        os.set_blocking(con.stdout.fileno(), False)
        while time.monotonic() < end and not re.search(rb"\nhello-console\r?\n", seen):
            chunk = con.stdout.read()
            if chunk:
                seen += chunk
            else:
                time.sleep(0.1)
        assert re.search(rb"echo hello-console\r?\n", seen), seen
        assert re.search(rb"\nhello-console\r?\n", seen), seen
    finally:
        con.send_signal(signal.SIGINT)
        con.wait(timeout=30)

    # What was read is not read again: the log keeps a cursor for the host.
    r = _hvctl(*m, "console", domid, "--once")
    assert r.returncode == 0 and "hello-console" not in r.stdout, r

    assert _hvctl(*m, "destroy", domid).returncode == 0
    # Its console went with it.
    r = _hvctl(*m, "console", domid, "--once")
    assert r.returncode != 0 and domid in r.stderr, r
    # dom0 let go of the console page before hv freed it: every frame came back.
    free_after = re.search(r"(?m)^free_kib: (\d+)$", _hvctl(*m, "physinfo").stdout).group(1)
    assert free_after == free_before
