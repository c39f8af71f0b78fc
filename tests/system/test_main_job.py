"""The main job (scripts/setup-and-run after the build, i.e. scripts/demo) from the build tree:
virthvd starts the machine (hv + dom0 in QEMU, TCG), the demo domain of examples/demo-domain.xml
is defined and started, virsh shows it running, its console reaches the guest's shell, and on the
way out nothing is left: no virthvd, no QEMU. Each run has its own work directory (sockets, state,
machine), so it does not collide with other tests. Skipped when the images are not built."""

import os
import pty
import re
import select
import subprocess
import time

import pytest

SRC = os.environ.get("HV_SRCDIR", os.path.join(os.path.dirname(__file__), "..", ".."))
B = os.environ.get("HV_BUILDDIR", SRC)
DEMO = os.path.join(SRC, "scripts", "demo")
NEEDED = [os.path.join(B, p) for p in ("daemon/virthvd", "tools/hv-machine/hv-machine",
                                       "hv/hv.elf", "guest-kernel/guest.elf")]

pytestmark = pytest.mark.skipif(not all(os.path.exists(p) for p in NEEDED),
                                reason="virthvd, hv-machine, hv or guest.elf not built")


def processes_naming(text):
    """pids of processes whose command line contains text."""
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit() or int(p) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmd:
            pids.append(int(p))
    return pids


def assert_nothing_left(work):
    left = processes_naming(work)
    deadline = time.time() + 10  # processes killed by the script may still be exiting
    while left and time.time() < deadline:
        time.sleep(0.2)
        left = processes_naming(work)
    descr = []
    for pid in left:
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                descr.append("%d: %s" % (pid, f.read().replace(b"\0", b" ").decode()[:200]))
        except OSError:
            pass
    assert not left, "processes of the demo still running:\n" + "\n".join(descr)


def test_main_job_check_mode(tmp_path):
    work = str(tmp_path / "demo")
    r = subprocess.run([DEMO, "--check", "--build-tree", B, "--work-dir", work],
                       capture_output=True, text=True, timeout=420, stdin=subprocess.DEVNULL)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    # virsh list --all: the demo domain, running, with an id.
    assert re.search(r"^\s*\d+\s+demo\s+running\s*$", r.stdout, re.M), out
    # virsh dominfo demo.
    assert re.search(r"^State:\s+running$", r.stdout, re.M), out
    assert re.search(r"^UUID:\s+6d656f2d-6476-4e00-8000-00000000d3e0$", r.stdout, re.M), out
    # The guest's own line, relayed by dom0 from hv's console.
    assert re.search(r"^\(d\d+\) hvguest: starting /bin/sh$", r.stdout, re.M), out
    assert "main job: OK" in r.stdout
    assert "virthvd stopped; no QEMU left" in r.stdout, out
    assert_nothing_left(work)
    # The work directory given is kept (only a temporary one the script made is removed).
    assert os.path.exists(os.path.join(work, "virthvd.log"))


def test_main_job_check_mode_by_environment(tmp_path):
    """HV_DEMO_NONINTERACTIVE=1 is --check."""
    work = str(tmp_path / "demo")
    env = dict(os.environ, HV_DEMO_NONINTERACTIVE="1")
    r = subprocess.run([DEMO, "--build-tree", B, "--work-dir", work], env=env,
                       capture_output=True, text=True, timeout=420, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "main job: OK" in r.stdout
    assert_nothing_left(work)


def test_main_job_fails_when_the_domain_cannot_start(tmp_path):
    """A demo domain that cannot start (its kernel is not there) is a non-zero exit, and the
    way out still stops virthvd and its machine."""
    work = str(tmp_path / "demo")
    r = subprocess.run([DEMO, "--check", "--build-tree", B, "--work-dir", work,
                        "--kernel", str(tmp_path / "no-such-kernel.elf")],
                       capture_output=True, text=True, timeout=420, stdin=subprocess.DEVNULL)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert "main job: OK" not in r.stdout, out
    assert "virthvd stopped; no QEMU left" in r.stdout, out
    assert_nothing_left(work)


def read_until(fd, want, timeout, seen):
    """Reads the pty into seen (a bytearray) until the pattern want appears."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if re.search(want, seen):
            return
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            seen += data
    raise AssertionError("%r not seen:\n%s" % (want, seen.decode(errors="replace")[-4000:]))


def test_main_job_console_on_a_terminal(tmp_path):
    """With a terminal, the script attaches it to `virsh console demo`: a command typed there
    runs in the guest's shell, and closing the console (Ctrl-]) stops the domain and virthvd."""
    work = str(tmp_path / "demo")
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(DEMO, [DEMO, "--build-tree", B, "--work-dir", work])
    seen = bytearray()
    try:
        read_until(fd, rb"Escape character is", 300, seen)
        time.sleep(0.5)
        os.write(fd, b"echo hello-console\r")
        # The shell echoes the line typed, then runs it.
        read_until(fd, rb"echo hello-console\r?\n\r?hello-console\r?\n", 30, seen)
        os.write(fd, b"\x1d")  # Ctrl-]: virsh closes the console
        read_until(fd, rb"no QEMU left", 90, seen)
        _, status = os.waitpid(pid, 0)
        pid = 0
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, seen.decode(errors="replace")
    finally:
        if pid:
            # SIGTERM runs the script's exit trap (domain, virthvd and machine stopped).
            os.kill(pid, 15)
            for _ in range(900):
                if os.waitpid(pid, os.WNOHANG)[0]:
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
        os.close(fd)
    assert_nothing_left(work)


def test_main_job_stops_on_sigterm_while_the_console_is_attached(tmp_path):
    """A signal to the script while virsh console holds the terminal runs the way out at once:
    the domain, virthvd and the machine stop, and the script exits (143, killed by SIGTERM)."""
    work = str(tmp_path / "demo")
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(DEMO, [DEMO, "--build-tree", B, "--work-dir", work])
    seen = bytearray()
    try:
        read_until(fd, rb"Escape character is", 300, seen)
        os.kill(pid, 15)
        read_until(fd, rb"no QEMU left", 90, seen)
        for _ in range(300):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the script did not exit:\n" + seen.decode(errors="replace"))
        pid = 0
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 143, status
    finally:
        if pid:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(fd)
    assert_nothing_left(work)


def test_main_job_stops_when_the_terminal_goes_away(tmp_path):
    """The terminal closed under the console (SIGHUP to the session): virthvd, in its own
    session, does not die with it; the script's way out stops it and its machine in order."""
    work = str(tmp_path / "demo")
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(DEMO, [DEMO, "--build-tree", B, "--work-dir", work])
    seen = bytearray()
    try:
        read_until(fd, rb"Escape character is", 300, seen)
    finally:
        os.close(fd)
    for _ in range(900):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        raise AssertionError("the script did not exit after the hang-up")
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) != 0, status
    assert_nothing_left(work)
    with open(os.path.join(work, "virthvd.log"), errors="replace") as f:
        log = f.read()
    assert "stopping the machine" in log, log[-3000:]
