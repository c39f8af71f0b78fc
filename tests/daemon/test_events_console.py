"""virsh event --loop --all sees every lifecycle change with its detail; virsh console, on a
pty, shows the simulated console's banner and gets its input echoed; the console's EOF when
the domain stops ends virsh console."""

import os
import pty
import select
import subprocess
import time

import pytest


def wait_state(daemon, name, text, timeout=10):
    deadline = time.time() + timeout
    while daemon.virsh("domstate", name, "--reason").stdout != text + "\n\n":
        assert time.time() < deadline, "%s never reached %r" % (name, text)
        time.sleep(0.05)


def test_event_loop(daemon):
    daemon.define("ev", 1)
    ev = subprocess.Popen(["virsh", "-c", daemon.uri, "event", "--all", "--loop",
                           "--timeout", "10"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    # virsh registers every event ID (27 in libvirt 9.0) before it listens
    daemon.wait_log("call virConnectDomainEventRegisterAny", count=27)
    for cmd in (["start", "ev"], ["suspend", "ev"], ["resume", "ev"], ["destroy", "ev"],
                ["start", "ev"], ["reboot", "ev"]):
        daemon.virsh(*cmd)
    daemon.wait_log("domain 'ev': the guest asked to reboot")
    daemon.virsh("shutdown", "ev")
    wait_state(daemon, "ev", "shut off (shutdown)")
    daemon.virsh("undefine", "ev")
    daemon.define("ev", 1)
    out, err = ev.communicate(timeout=30)
    assert out == (
        "event 'lifecycle' for domain 'ev': Started Booted\n"
        "event 'lifecycle' for domain 'ev': Suspended Paused\n"
        "event 'lifecycle' for domain 'ev': Resumed Unpaused\n"
        "event 'lifecycle' for domain 'ev': Stopped Destroyed\n"
        "event 'lifecycle' for domain 'ev': Started Booted\n"
        "event 'reboot' for domain 'ev'\n"
        "event 'lifecycle' for domain 'ev': Shutdown Finished\n"
        "event 'lifecycle' for domain 'ev': Stopped Shutdown\n"
        "event 'lifecycle' for domain 'ev': Undefined Removed\n"
        "event 'lifecycle' for domain 'ev': Defined Added\n"
        "event loop timed out\n"
        "events received: 10\n\n"), (out, err)


class Pty:
    """virsh console on a pseudo-terminal (virsh refuses a console without a TTY)."""

    def __init__(self, uri, *args):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvp("virsh", ["virsh", "-c", uri, "console"] + list(args))
        self.out = b""

    def read_until(self, needle, timeout=5):
        deadline = time.time() + timeout
        while needle not in self.out and time.time() < deadline:
            r, _, _ = select.select([self.fd], [], [], 0.1)
            if r:
                try:
                    self.out += os.read(self.fd, 4096)
                except OSError:
                    break
        return needle in self.out

    def write(self, data):
        os.write(self.fd, data)

    def wait(self, timeout=5):
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.read_until(b"\0", 0.1)  # drain
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)
        pytest.fail("virsh console did not exit; output %r" % self.out)


def test_console(daemon):
    daemon.define("con", 1)
    daemon.virsh("start", "con")
    c = Pty(daemon.uri, "con")
    assert c.read_until(b"Each line you type is echoed back.\r\n"), c.out
    assert b"Connected to domain 'con'" in c.out
    assert b"[hv simulation] console of domain 'con' (id 1)" in c.out
    c.write(b"hello hv\r")
    assert c.read_until(b"echo: hello hv\r\n"), c.out
    # a second session is refused while the first one is open
    r = daemon.virsh("console", "con", check=False)
    assert r.returncode == 1
    c.write(b"\x1d")  # Ctrl-]: virsh finishes the stream and waits for our confirmation
    assert c.wait() == 0
    # the domain going away ends the session (EOF from our side)
    c = Pty(daemon.uri, "con")
    assert c.read_until(b"echoed back.\r\n"), c.out
    daemon.virsh("destroy", "con")
    assert c.wait() == 0


def test_console_force_and_guest_events(daemon):
    daemon.define("cf", 2)
    daemon.virsh("start", "cf")
    first = Pty(daemon.uri, "cf")
    assert first.read_until(b"echoed back.\r\n"), first.out
    second = Pty(daemon.uri, "cf", "--force")
    assert second.read_until(b"echoed back.\r\n"), second.out
    assert first.wait() == 0  # taken over: EOF
    # the simulated guest's own power-off, through its console hook
    second.write(b"sim-poweroff\r")
    assert second.wait() == 0
    wait_state(daemon, "cf", "shut off (shutdown)")
