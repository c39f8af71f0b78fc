"""virt-manager 4.1 (Debian's, unmodified) against virthvd driving the REAL machine
(backend=hvctl: QEMU with hv and dom0's agent, started by virthvd through hv-machine, TCG), under
a virtual X server.

A domU (guest-kernel's guest.elf running its shell) is defined and started with virsh and boots
to its shell on hv; virt-manager connects to hv+unix:///system?socket=..., lists it as running
in its manager window, and follows its lifecycle events through pause, resume and destroy. What
virt-manager did is read from its debug log; a screenshot of its window is saved to
tests/out/virt-manager-real.png in the build tree (its path is printed, so it appears in the
test log) and checked to be a drawn window, not an empty screen.

Skipped when virt-manager, xvfb-run, hv or the guest kernel is missing.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

import conftest

libvirt = pytest.importorskip("libvirt")

from test_real_hv import GUEST, HV, HV_MACHINE, HVCTL, RealDaemon, qemu_pids, uuid  # noqa: E402
from test_virt_manager import VirtManager  # noqa: E402

pytestmark = pytest.mark.skipif(
    not (shutil.which("virt-manager") and shutil.which("xvfb-run") and
         all(os.path.exists(p) for p in (HV, GUEST, HV_MACHINE, HVCTL))),
    reason="virt-manager, xvfb-run, hv, guest.elf, hv-machine or hvctl is missing")

SHOT = os.path.join(conftest.BUILDDIR, "tests", "out", "virt-manager-real.png")

# Grabs the X server's root window into a PNG and prints its size and how many distinct
# colours a sample of its pixels has (an empty screen has one).
GRAB = r"""
import sys
import gi
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk
root = Gdk.get_default_root_window()
w, h = root.get_width(), root.get_height()
pb = Gdk.pixbuf_get_from_window(root, 0, 0, w, h)
pb.savev(sys.argv[1], "png", [], [])
data, stride, n = pb.get_pixels(), pb.get_rowstride(), pb.get_n_channels()
colours = {bytes(data[y * stride + x * n:y * stride + x * n + 3])
           for y in range(0, h, 7) for x in range(0, w, 7)}
print(w, h, len(colours))
"""


class RealVirtManager(VirtManager):
    """VirtManager whose X display is known, so that its screen can be grabbed."""

    def __init__(self, daemon):
        self.log = os.path.join(daemon.dir, "virt-manager.log")
        self.display_file = os.path.join(daemon.dir, "display")
        home = os.path.join(daemon.dir, "home")
        os.makedirs(home, exist_ok=True)
        env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=home, XDG_CACHE_HOME=home,
                   NO_AT_BRIDGE="1")
        script = ('printf "%s\\n%s\\n" "$DISPLAY" "$XAUTHORITY" > "$0"; '
                  'exec virt-manager --no-fork --debug --connect "$1"')
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(
                ["xvfb-run", "-a", "-s", "-screen 0 1024x768x24", "sh", "-c", script,
                 self.display_file, daemon.uri],
                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)

    def screenshot(self, path):
        with open(self.display_file) as f:
            display, xauth = f.read().split("\n")[:2]
        env = dict(os.environ, DISPLAY=display, XAUTHORITY=xauth, NO_AT_BRIDGE="1")
        r = subprocess.run([sys.executable, "-c", GRAB, path], capture_output=True, text=True,
                           env=env, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        w, h, colours = (int(x) for x in r.stdout.split()[-3:])
        return w, h, colours


@pytest.fixture
def real():
    # A short directory: the machine's UNIX sockets live under it.
    d = RealDaemon(tempfile.mkdtemp(prefix="vmreal-"))
    try:
        d.start()
        yield d
    finally:
        d.stop()
        subprocess.run([HV_MACHINE, "stop", "--dir", d.machine_dir], capture_output=True,
                       timeout=60)
        for pid in qemu_pids(d.machine_dir):
            os.kill(pid, 9)
        for name in ("virt-manager.log", "virthvd.log"):
            src = os.path.join(d.dir, name)
            if os.path.exists(src):
                os.makedirs(os.path.dirname(SHOT), exist_ok=True)
                shutil.copy(src, os.path.join(os.path.dirname(SHOT), "virt-manager-real-" + name))
        shutil.rmtree(d.dir, ignore_errors=True)


def test_virt_manager_lists_a_running_domain_of_the_real_machine(real):
    d = real
    d.virsh("define", d.write_xml("web", uuid(40)))
    d.virsh("start", "web")
    domid = d.domid("web")
    d.wait_guest_shell(domid)  # a real domU on hv, booted to its shell
    assert d.hv_domains().get(domid) == "running", d.hv_domains()

    vm = RealVirtManager(d)
    try:
        vm.wait_for("changed to state=Active", timeout=120)
        vm.wait_for("domain=web status=Running added", timeout=60)
        # Statistics polling (every 3 s) reaches the real machine for CPU time and memory.
        d.wait_log("call virConnectGetAllDomainStats", count=2, timeout=60)
        time.sleep(2)  # let the manager window draw its row
        os.makedirs(os.path.dirname(SHOT), exist_ok=True)
        w, h, colours = vm.screenshot(SHOT)
        print(f"virt-manager screenshot (real machine, domain web = d{domid} running): {SHOT} "
              f"({w}x{h}, {colours} colours sampled)")
        assert (w, h) == (1024, 768)
        assert colours > 8, "the screen is empty: virt-manager drew no window"

        d.virsh("suspend", "web")
        vm.wait_for("state=VIR_DOMAIN_EVENT_SUSPENDED reason=VIR_DOMAIN_EVENT_SUSPENDED_PAUSED")
        assert d.hv_domains().get(domid) == "paused", d.hv_domains()
        d.virsh("resume", "web")
        vm.wait_for("state=VIR_DOMAIN_EVENT_RESUMED reason=VIR_DOMAIN_EVENT_RESUMED_UNPAUSED")
        assert d.hv_domains().get(domid) == "running", d.hv_domains()
        d.virsh("destroy", "web")
        vm.wait_for("state=VIR_DOMAIN_EVENT_STOPPED reason=VIR_DOMAIN_EVENT_STOPPED_DESTROYED")
        assert domid not in d.hv_domains()
        log = vm.text()
        # The only failures are the APIs hv does not have (storage pools: virt-manager tries
        # to create its default pool and logs the refusal).
        assert log.count("Traceback") == log.count("Error building default pool"), log
        assert "ZeroDivisionError" not in log and "Error polling connection" not in log, log
    finally:
        vm.stop()
    d.virsh("undefine", "web")
    assert d.alive()
    assert d.stop() == 0, d.log_text()[-3000:]
    assert qemu_pids(d.machine_dir) == []
