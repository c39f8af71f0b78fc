"""A machine held by the project's own starter, `hv-machine start --detach`, and driven from the
host with `hvctl`, as the control-plane, XenStore, block and network system tests drive it.

    with held_machine("block.log", prefix="hvblk-") as d:
        out = hvctl(d, "create", GUEST, "--memory", "16").stdout

What it guarantees: the machine runs in a short temporary directory (UNIX socket paths are
limited to 108 bytes); when the block ends, pass or fail, the machine is stopped, whatever is
left of the holder and QEMU is killed through their pid files, the serial log is kept as
tests/out/<log_name>, and the directory is removed. A serial log that says PANIC fails the test.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile

from hvtest import accel, build_path

HV = build_path("hv/hv.elf")
GUEST = build_path("guest-kernel/guest.elf")
HV_MACHINE = build_path("tools/hv-machine/hv-machine")
HVCTL = build_path("tools/hvctl/hvctl")


def serial(d):
    """What the machine in d has printed on its serial console so far ("" before it exists)."""
    try:
        with open(os.path.join(d, "serial.log"), errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def _kill_pidfile(path):
    try:
        with open(path) as f:
            pid = int(f.read().split()[0])
        os.kill(pid, signal.SIGKILL)
    except (OSError, ValueError, IndexError):
        pass


@contextlib.contextmanager
def held_machine(log_name, prefix="hvm-", hv_cmdline="sched=resv", dom0_cmdline="agent",
                 cpus=2, memory_mib=512):
    """Starts hv with guest-kernel as dom0's agent and yields the machine's directory."""
    d = tempfile.mkdtemp(prefix=prefix)
    try:
        r = subprocess.run([HV_MACHINE, "start", "--dir", d, "--hv", HV, "--cmdline", hv_cmdline,
                            "--dom0", GUEST, "--dom0-cmdline", dom0_cmdline, "--cpus",
                            str(cpus), "--memory", str(memory_mib), "--accel", accel(),
                            "--wait-agent", "90", "--detach"],
                           capture_output=True, text=True, timeout=150)
        assert r.returncode == 0, r.stdout + r.stderr + serial(d)[-3000:]
        yield d
        text = serial(d)
        assert "PANIC" not in text, text[-3000:]
    finally:
        subprocess.run([HV_MACHINE, "stop", "--dir", d], capture_output=True, timeout=60)
        for name in ("pid", "hv-machine.pid"):
            _kill_pidfile(os.path.join(d, name))
        if os.path.exists(os.path.join(d, "serial.log")):
            os.makedirs(build_path("tests/out"), exist_ok=True)
            shutil.copy(os.path.join(d, "serial.log"), build_path("tests/out/" + log_name))
        shutil.rmtree(d, ignore_errors=True)


def hvctl(d, *args, check=True, timeout=60):
    """Runs hvctl against the machine in d; with check, a non-zero exit fails the test."""
    r = subprocess.run([HVCTL, "--machine", d, "--timeout", "30", *args], capture_output=True,
                       text=True, timeout=timeout)
    if check:
        assert r.returncode == 0, f"hvctl {' '.join(args)}: {r.returncode} {r.stdout}{r.stderr}"
    return r
