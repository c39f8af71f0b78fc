"""The machine starter (libhvctl/machine.c through tools/hv-machine) and hvctl's command line.

- hv-machine start boots hv (hv.elf with dom0 as module 0, and a GRUB ISO) in QEMU: hv's banner
  and idle line reach the serial log, QEMU's ivshmem device connects to the link's server (hvctl
  then reports "a machine connected; its agent has not attached yet"), and stop, SIGTERM or
  --detach/stop leave no QEMU behind; a QEMU that dies at once is reported with its log's end.
- hvctl: --help, each command's help, argument errors (exit 2, nothing sent), no machine (exit
  3 at once), and every command against tests/unit/libhvctl/fake-machine (the real link and
  relay with the fake agent of the unit tests; no hv, no QEMU).

Every process is started in its own session and killed with it at the end, pass or fail.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from hvtest import accel, build_path, make_iso

HV = build_path("hv/hv.elf")
DOM0 = build_path("guest-kernel/guest.elf")
HV_MACHINE = build_path("tools/hv-machine/hv-machine")
HVCTL = build_path("tools/hvctl/hvctl")
FAKE_MACHINE = build_path("tests/unit/libhvctl/fake-machine")
BANNER = r"(?m)^hv: hv (\S+) x86-64 starting"
IDLE = r"(?m)^hv: idle at (\d+) us"

needs_tools = pytest.mark.skipif(not (os.path.exists(HV_MACHINE) and os.path.exists(HVCTL)),
                                 reason="tools not built")


@pytest.fixture
def state_dir():
    # Short, in /tmp: UNIX socket paths are limited to 108 bytes.
    d = tempfile.mkdtemp(prefix="hvm-")
    procs = []
    yield d, procs
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=10)
    for name in ("pid", "hv-machine.pid"):
        pid = _read_pid(os.path.join(d, name))
        if pid and _alive(pid):
            os.kill(pid, signal.SIGKILL)
    shutil.rmtree(d, ignore_errors=True)


def _read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes (its parent reaps it).
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_file_match(path, regex, timeout, proc=None):
    end = time.monotonic() + timeout
    text = ""
    while time.monotonic() < end:
        try:
            with open(path, errors="replace") as f:
                text = f.read()
        except FileNotFoundError:
            text = ""
        m = re.search(regex, text)
        if m:
            return m
        if proc is not None and proc.poll() is not None:
            why = proc.stderr.read() if proc.stderr else ""
            raise AssertionError(f"{regex!r} not in {path}: hv-machine exited with "
                                 f"{proc.returncode}: {why}\nthe log ends:\n{text[-2000:]}")
        time.sleep(0.1)
    raise AssertionError(f"{regex!r} not in {path} within {timeout} s; it ends:\n{text[-2000:]}")


def _start(dir_, procs, *args, accel_=None):
    argv = [HV_MACHINE, "start", "--dir", dir_, "--accel", accel_ or accel(), *args]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    procs.append(p)
    return p


def _hvctl(*args, timeout=30, input=None):
    return subprocess.run([HVCTL, *args], capture_output=True, text=True, timeout=timeout,
                          input=input)


def _no_qemu_of(dir_):
    """No process left whose command line names the state directory."""
    left = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if dir_ in cmd and _alive(int(pid)):
            left.append(f"{pid}: {cmd}")
    return left


@needs_tools
def test_start_boots_hv_with_dom0_and_link_then_stop(state_dir):
    d, procs = state_dir
    p = _start(d, procs, "--hv", HV, "--dom0", DOM0, "--memory", "512")
    serial = os.path.join(d, "serial.log")
    _wait_file_match(serial, BANNER, 60, p)
    _wait_file_match(serial, IDLE, 60, p)
    qemu = _read_pid(os.path.join(d, "pid"))
    assert qemu and _alive(qemu)

    # The link's server saw QEMU's ivshmem device (no agent in dom0 yet: hvctl says so).
    r = _hvctl("--machine", d, "--timeout", "2", "list")
    assert r.returncode == 3, r
    assert "a machine connected" in r.stderr, r.stderr

    r = subprocess.run([HV_MACHINE, "status", "--dir", d], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0 and "state: running" in r.stdout, r
    assert f"qemu_pid: {qemu}" in r.stdout

    r = subprocess.run([HV_MACHINE, "stop", "--dir", d], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r
    assert p.wait(timeout=30) == 0, p.stderr.read()
    assert not _alive(qemu)
    assert _no_qemu_of(d) == []
    assert not os.path.exists(os.path.join(d, "hvctl.sock"))
    assert not os.path.exists(os.path.join(d, "ivshmem.sock"))
    r = subprocess.run([HV_MACHINE, "status", "--dir", d], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 3 and "stopped" in r.stdout


@needs_tools
def test_sigterm_stops_cleanly_and_hv_exit_is_reported(state_dir):
    d, procs = state_dir
    # on_idle=exit: hv ends the machine itself; hv-machine reports hv's exit code 0 and exits 0.
    p = _start(d, procs, "--hv", HV, "--cmdline", "on_idle=exit")
    out, err = p.communicate(timeout=90)
    assert p.returncode == 0, err
    assert "hv exited with code 0" in err
    assert _no_qemu_of(d) == []

    os.unlink(os.path.join(d, "serial.log"))  # so that the next idle line is the new machine's
    p = _start(d, procs, "--hv", HV)
    _wait_file_match(os.path.join(d, "serial.log"), IDLE, 60, p)
    qemu = _read_pid(os.path.join(d, "pid"))
    assert qemu and _alive(qemu)
    os.kill(p.pid, signal.SIGTERM)
    assert p.wait(timeout=30) == 0
    assert not _alive(qemu)
    assert _no_qemu_of(d) == []


@needs_tools
def test_detach_then_stop(state_dir):
    d, procs = state_dir
    r = subprocess.run([HV_MACHINE, "start", "--detach", "--dir", d, "--hv", HV, "--accel",
                        accel()], capture_output=True, text=True, timeout=60)
    holder = _read_pid(os.path.join(d, "hv-machine.pid"))
    try:
        assert r.returncode == 0, r
        assert "started" in r.stdout
        _wait_file_match(os.path.join(d, "serial.log"), IDLE, 60)
    finally:
        s = subprocess.run([HV_MACHINE, "stop", "--dir", d], capture_output=True, text=True,
                           timeout=60)
    assert s.returncode == 0, s
    assert holder and not _alive(holder)
    assert _no_qemu_of(d) == []


@needs_tools
def test_qemu_that_dies_early_is_reported(state_dir):
    d, procs = state_dir
    t0 = time.monotonic()
    p = _start(d, procs, "--hv", HV, "--", "-no-such-option")
    out, err = p.communicate(timeout=60)
    assert p.returncode == 1
    assert "exited with status 1" in err, err
    assert "no-such-option" in err, err  # the end of QEMU's own log
    assert time.monotonic() - t0 < 30
    assert _no_qemu_of(d) == []


@needs_tools
def test_start_usage_errors(state_dir):
    d, _ = state_dir
    for args, needle in ((["start", "--dir", d], "--hv IMAGE"),
                         (["start", "--dir", d, "--hv", HV, "--memory", "lots"], "--memory"),
                         (["start", "--dir", d, "--hv", HV, "--accel", "warp"], "--accel"),
                         (["frobnicate"], "no command"),
                         ([], "usage")):
        r = subprocess.run([HV_MACHINE, *args], capture_output=True, text=True, timeout=30)
        assert r.returncode == 2, (args, r)
        assert needle in r.stderr, (args, r.stderr)
    r = subprocess.run([HV_MACHINE, "stop", "--dir", d], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 3 and "no machine" in r.stderr
    r = subprocess.run([HV_MACHINE, "start", "--dir", d, "--hv", "/nonexistent/hv.elf"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "/nonexistent/hv.elf" in r.stderr


@needs_tools
def test_config_file(state_dir):
    d, procs = state_dir
    conf = os.path.join(d, "machine.conf")
    with open(conf, "w") as f:
        f.write(f"# a machine\ndir = {d}\nhv = {HV}\ncmdline = on_idle=exit\nmemory = 256\n"
                f"accel = {accel()}\n")
    p = subprocess.Popen([HV_MACHINE, "start", "--config", conf], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    procs.append(p)
    out, err = p.communicate(timeout=90)
    assert p.returncode == 0, err
    assert re.search(r"(?m)^hv: command line: on_idle=exit", open(os.path.join(d, "serial.log")).read())
    with open(conf, "a") as f:
        f.write("bogus = 1\n")
    r = subprocess.run([HV_MACHINE, "start", "--config", conf], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2 and "bogus" in r.stderr


@needs_tools
@pytest.mark.skipif(not shutil.which("grub-mkrescue"), reason="no grub-mkrescue")
def test_start_from_iso(state_dir):
    d, procs = state_dir
    iso = make_iso(HV, "", [(DOM0, "")])
    p = _start(d, procs, "--hv", iso)
    serial = os.path.join(d, "serial.log")
    _wait_file_match(serial, BANNER, 90, p)
    _wait_file_match(serial, IDLE, 60, p)
    os.kill(p.pid, signal.SIGTERM)
    assert p.wait(timeout=30) == 0
    assert _no_qemu_of(d) == []


# ---- hvctl ----

@needs_tools
def test_hvctl_help_and_usage_errors():
    r = _hvctl("--help")
    assert r.returncode == 0
    for cmd in ("list", "info", "create", "pause", "unpause", "shutdown", "destroy", "sched-get",
                "sched-set", "mem-set", "console", "events", "physinfo"):
        assert re.search(rf"(?m)^  {cmd} ", r.stdout), cmd
        h = _hvctl(cmd, "--help")
        assert h.returncode == 0 and h.stdout.startswith(f"usage: hvctl [--machine DIR] {cmd}")
    for args, needle in ((["info"], "expects 1 argument"),
                         (["info", "x"], "not a domain id"),
                         (["info", "-1"], ""),
                         (["create", "k.elf"], "--memory"),
                         (["create", "k.elf", "--memory", "0"], "--memory"),
                         (["sched-set", "1"], "at least one"),
                         (["sched-set", "1", "--weight", "0"], "--weight"),
                         (["mem-set", "1", "--max", "12Q"], "not a size"),
                         (["shutdown", "1", "--reason", "nap"], "--reason"),
                         (["--timeout", "0", "list"], "--timeout"),
                         (["frobnicate"], "no command"),
                         ([], "usage")):
        r = _hvctl(*args)
        assert r.returncode == 2, (args, r)
        assert needle in r.stderr, (args, r.stderr)


@needs_tools
def test_hvctl_without_a_machine(tmp_path):
    t0 = time.monotonic()
    r = _hvctl("--machine", str(tmp_path), "list")
    assert r.returncode == 3
    assert "no machine at" in r.stderr and "hv-machine" in r.stderr
    env = dict(os.environ)
    env.pop("HV_MACHINE", None)
    r = subprocess.run([HVCTL, "list"], capture_output=True, text=True, timeout=30, env=env)
    assert r.returncode == 2 and "--machine" in r.stderr
    # A socket file with nobody behind it: a clear message, fast.
    import socket
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(tmp_path / "hvctl.sock"))
    s.close()
    r = _hvctl("--machine", str(tmp_path), "--timeout", "2", "list")
    assert r.returncode == 3 and "no machine answers" in r.stderr, r.stderr
    assert time.monotonic() - t0 < 10


@pytest.mark.skipif(not os.path.exists(FAKE_MACHINE), reason="fake-machine not built (make check)")
@needs_tools
def test_hvctl_against_the_fake_machine(state_dir):
    d, procs = state_dir
    fm = subprocess.Popen([FAKE_MACHINE, d], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, start_new_session=True)
    procs.append(fm)
    end = time.monotonic() + 30
    while not os.path.exists(os.path.join(d, "ready")):
        assert fm.poll() is None, fm.stderr.read()
        assert time.monotonic() < end, "fake-machine did not get ready"
        time.sleep(0.05)
    m = ["--machine", d]

    ev = subprocess.Popen([HVCTL, *m, "events", "--count", "3", "--for", "30"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          start_new_session=True)
    procs.append(ev)
    assert ev.stdout.readline() == "subscribed\n"

    r = _hvctl(*m, "physinfo")
    assert r.returncode == 0 and "nr_cpus: 4" in r.stdout, r
    r = _hvctl(*m, "create", DOM0, "--memory", "64", "--vcpus", "2", "--name", "web",
               "--cmdline", "console=hvc0")
    assert r.returncode == 0, r
    domid, name = r.stdout.split()
    assert name == "web"
    r = _hvctl(*m, "list")
    assert re.search(rf"(?m)^{domid}\s+running\s+2\s+65536\s+65536", r.stdout), r.stdout
    assert _hvctl(*m, "sched-set", domid, "--cap", "80", "--reservation", "50").returncode == 0
    r = _hvctl(*m, "sched-get", domid)
    assert r.stdout == "weight: 256\ncap: 80\nreservation: 50\n", r
    r = _hvctl(*m, "sched-set", domid, "--reservation", "500")
    assert r.returncode == 1 and "reservation" in r.stderr
    assert _hvctl(*m, "mem-set", domid, "--max", "128M", "--current", "96M").returncode == 0
    r = _hvctl(*m, "info", domid)
    assert "current_mem_kib: 98304" in r.stdout and "max_mem_kib: 131072" in r.stdout, r
    assert _hvctl(*m, "pause", domid).returncode == 0
    assert "state: paused" in _hvctl(*m, "info", domid).stdout
    assert _hvctl(*m, "unpause", domid).returncode == 0
    r = _hvctl(*m, "console", domid, "--once")
    assert r.returncode == 0, r
    # The fake agent's console echoes what it is given, as a shell would.
    con = subprocess.Popen([HVCTL, *m, "console", domid], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           start_new_session=True)
    procs.append(con)
    con.stdin.write("echo through the link\n")
    con.stdin.close()
    assert con.stdout.readline() == "echo through the link\n"
    con.send_signal(signal.SIGINT)
    assert con.wait(timeout=30) == 0, con.stderr.read()
    assert _hvctl(*m, "shutdown", domid, "--reason", "reboot").returncode == 0
    r = _hvctl(*m, "info", domid)
    assert "state: shutdown" in r.stdout and "shutdown_reason: reboot" in r.stdout, r
    assert _hvctl(*m, "destroy", domid).returncode == 0
    r = _hvctl(*m, "info", domid)
    assert r.returncode == 1 and f"no domain {domid}" in r.stderr, r
    # A kernel that is not an ELF: the build fails and the domain is not left behind.
    bad = os.path.join(d, "bad.elf")
    with open(bad, "w") as f:
        f.write("not an elf\n")
    r = _hvctl(*m, "create", bad, "--memory", "64")
    assert r.returncode == 1 and "ELF" in r.stderr, r
    assert _hvctl(*m, "list").stdout.count("\n") == 1  # the header only

    # Devices: the holder opens the disks' file and makes the TAP (as root); they go with the
    # domain. A disk that is not there: the domain is not left behind.
    img = os.path.join(d, "disk.img")
    with open(img, "wb") as f:
        f.truncate(1 << 20)
    tap = os.geteuid() == 0 and os.path.exists("/dev/net/tun")
    r = _hvctl(*m, "create", DOM0, "--memory", "16", "--disk", img + ",ro", "--disk",
               img + ",dev=xvdc", *(["--nic", "auto"] if tap else []))
    assert r.returncode == 0, r
    did = r.stdout.split()[0]
    b = _hvctl(*m, "backing").stdout
    assert f"{did} disk 51712 ro {img} sectors=2048 " in b, b
    assert f"{did} disk 51744 rw {img} sectors=2048 " in b, b
    name = None
    if tap:  # hv<domid>.0, or hvN when another machine on this host has that name
        found = re.search(rf"(?m)^{did} nic 0 (hv{did}\.0|hv\d+) ", b)
        assert found, b
        name = found.group(1)
        index = socket.if_nametoindex(name)
        assert re.search(rf"interface 0: 00:16:3e:00:{int(did):02x}:00 on {name}\b", r.stderr)
    assert _hvctl(*m, "destroy", did).returncode == 0
    assert _hvctl(*m, "backing").stdout == ""
    if name:  # gone (or the name already another machine's new TAP)
        try:
            assert socket.if_nametoindex(name) != index
        except OSError:
            pass
    r = _hvctl(*m, "create", DOM0, "--memory", "16", "--disk", os.path.join(d, "none.img"))
    assert r.returncode == 1 and "cannot find" in r.stderr, r
    assert _hvctl(*m, "list").stdout.count("\n") == 1
    for args, needle in ((["--disk", img + ",bogus"], "ro, rw or dev="),
                         (["--disk", img + ",dev=sda"], "dev=xvda..xvdp"),
                         (["--nic", "zz"], "not a MAC address"),
                         (["--nic", "01:00:00:00:00:01"], "multicast")):
        r = _hvctl(*m, "create", DOM0, "--memory", "16", *args)
        assert r.returncode == 2 and needle in r.stderr, (args, r.stderr)

    out, err = ev.communicate(timeout=30)
    assert ev.returncode == 0, err
    lines = out.splitlines()
    assert lines[:3] == [f"domain {domid} created", f"domain {domid} running",
                         f"domain {domid} paused"], out

    fm.send_signal(signal.SIGTERM)
    assert fm.wait(timeout=30) == 0
    r = _hvctl(*m, "--timeout", "2", "list")
    assert r.returncode == 3


@needs_tools
def test_hvctl_against_the_real_machine(state_dir):
    """hv with dom0 = guest.elf `agent`: hv-machine waits for the agent, hvctl drives hv through
    the relay, the link and the agent; stop asks dom0 to shut down through the link."""
    d, procs = state_dir
    r = subprocess.run([HV_MACHINE, "start", "--detach", "--dir", d, "--hv", HV, "--dom0", DOM0,
                        "--dom0-cmdline", "agent", "--cpus", "2", "--accel", accel(),
                        "--wait-agent", "90"], capture_output=True, text=True, timeout=150)
    try:
        assert r.returncode == 0, r
        m = ["--machine", d, "--timeout", "30"]
        p = _hvctl(*m, "physinfo")
        assert p.returncode == 0, p
        assert re.search(r"(?m)^nr_cpus: 2$", p.stdout), p.stdout
        assert re.search(r"(?m)^0\s+running\s", _hvctl(*m, "list").stdout)
        r = _hvctl(*m, "create", DOM0, "--memory", "32", "--paused")
        assert r.returncode == 0, r
        domid = r.stdout.split()[0]
        # built, never unpaused: hv calls that "created" (link_ctl.h)
        assert "state: created" in _hvctl(*m, "info", domid).stdout
        assert _hvctl(*m, "unpause", domid).returncode == 0
        # guest.elf with no command line: three ticks, then power off.
        end = time.monotonic() + 60
        while "state: shutdown" not in _hvctl(*m, "info", domid).stdout:
            assert time.monotonic() < end, "the domU did not run to its power-off"
            time.sleep(0.2)
        assert _hvctl(*m, "destroy", domid).returncode == 0
        r = _hvctl(*m, "info", domid)
        assert r.returncode == 1 and f"domain {domid}" in r.stderr, r  # gone (ESRCH)
        r = subprocess.run([HV_MACHINE, "status", "--dir", d], capture_output=True, text=True,
                           timeout=30)
        assert "agent: answering" in r.stdout, r
    finally:
        s = subprocess.run([HV_MACHINE, "stop", "--dir", d], capture_output=True, text=True,
                           timeout=90)
    assert s.returncode == 0, s
    assert "agent: shutdown asked through the link" in open(os.path.join(d, "serial.log")).read()
    assert _no_qemu_of(d) == []
