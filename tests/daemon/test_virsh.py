"""virsh (Debian's libvirt-clients 9.0) against virthvd with the simulated backend: the handshake,
node calls, and a domain's whole life, compared with the exact output formats of
../shared/reference/libvirt-rpc.md section 7."""

import re
import time
import xml.etree.ElementTree as ET


def wait_state(daemon, name, text, timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        out = daemon.virsh("domstate", name, "--reason").stdout
        if out == text + "\n\n":
            return
        time.sleep(0.05)
    raise AssertionError("%s never reached %r (last %r)" % (name, text, out))


def test_version_and_node(daemon):
    out = daemon.virsh("version").stdout
    assert re.fullmatch(r"Compiled against library: libvirt \S+\n"
                        r"Using library: libvirt \S+\n"
                        r"Using API: hv \S+\n"
                        r"Running hypervisor: hv \d+\.\d+\.\d+\n\n", out), out
    assert daemon.virsh("nodeinfo").stdout == (
        "CPU model:           x86_64\n"
        "CPU(s):              2\n"
        "CPU frequency:       2000 MHz\n"
        "CPU socket(s):       1\n"
        "Core(s) per socket:  2\n"
        "Thread(s) per core:  1\n"
        "NUMA cell(s):        1\n"
        "Memory size:         4194304 KiB\n\n")
    caps = ET.fromstring(daemon.virsh("capabilities").stdout)
    assert caps.findtext("host/cpu/arch") == "x86_64"
    guests = {(g.findtext("os_type"), g.find("arch").get("name"),
               g.find("arch/domain").get("type")) for g in caps.findall("guest")}
    assert ("xen", "x86_64", "hv") in guests and ("linux", "x86_64", "hv") in guests
    assert daemon.virsh("maxvcpus").stdout.strip().isdigit()
    assert daemon.virsh("hostname").stdout.strip()
    assert "total  :              4194304 KiB" in daemon.virsh("nodememstats").stdout
    assert daemon.virsh("uri").stdout == daemon.uri + "\n\n"


def test_empty_list(daemon):
    assert daemon.virsh("list", "--all").stdout == " Id   Name   State\n" + "-" * 20 + "\n\n"


def test_unknown_domain(daemon):
    r = daemon.virsh("dominfo", "nosuch", check=False)
    assert r.returncode == 1
    assert r.stderr.startswith("error: failed to get domain 'nosuch'")


def test_lifecycle(daemon):
    path = daemon.dir + "/guest1.xml"
    assert daemon.define("guest1", 1).stdout == "Domain 'guest1' defined from %s\n\n" % path
    assert daemon.virsh("list", "--all").stdout == (
        " Id   Name     State\n"
        "-------------------------\n"
        " -    guest1   shut off\n\n")
    assert daemon.virsh("list").stdout == " Id   Name   State\n" + "-" * 20 + "\n\n"
    assert daemon.virsh("domstate", "guest1", "--reason").stdout == "shut off (unknown)\n\n"

    assert daemon.virsh("start", "guest1").stdout == "Domain 'guest1' started\n\n"
    assert daemon.virsh("list").stdout == (
        " Id   Name     State\n"
        "------------------------\n"
        " 1    guest1   running\n\n")
    r = daemon.virsh("start", "guest1", check=False)
    assert r.returncode == 1 and "already" in r.stderr

    info = daemon.virsh("dominfo", "guest1").stdout
    assert re.fullmatch(
        r"Id:             1\n"
        r"Name:           guest1\n"
        r"UUID:           5c3f2c2a-8e1b-4f6e-9d1a-0b0c0d0e0f01\n"
        r"OS Type:        linux\n"
        r"State:          running\n"
        r"CPU\(s\):         2\n"
        r"(CPU time:       \d+\.\ds\n)?"
        r"Max memory:     1048576 KiB\n"
        r"Used memory:    524288 KiB\n"
        r"Persistent:     yes\n"
        r"Autostart:      disable\n"
        r"Managed save:   no\n"
        r"Security model: none\n"
        r"Security DOI:   0\n\n", info), info
    assert daemon.virsh("domstate", "guest1", "--reason").stdout == "running (booted)\n\n"
    assert daemon.virsh("domid", "guest1").stdout == "1\n\n"
    assert daemon.virsh("domname", "1").stdout == "guest1\n\n"
    assert daemon.virsh("domuuid", "guest1").stdout == "5c3f2c2a-8e1b-4f6e-9d1a-0b0c0d0e0f01\n\n"

    dom = ET.fromstring(daemon.virsh("dumpxml", "guest1").stdout)
    assert dom.get("type") == "hv" and dom.get("id") == "1"
    assert dom.findtext("name") == "guest1"
    inactive = ET.fromstring(daemon.virsh("dumpxml", "guest1", "--inactive").stdout)
    assert inactive.get("id") is None

    # CPU time advances on the simulated machine.
    def cputime():
        return float(re.search(r"CPU time:\s+([\d.]+)s", daemon.virsh("dominfo",
                                                                        "guest1").stdout)[1])
    t0 = cputime()
    time.sleep(0.3)
    assert cputime() > t0

    # Memory: balloon within the maximum; the maximum only offline.
    daemon.virsh("setmem", "guest1", "262144")
    assert "Used memory:    262144 KiB" in daemon.virsh("dominfo", "guest1").stdout
    r = daemon.virsh("setmaxmem", "guest1", "2097152", check=False)
    assert r.returncode == 1
    assert ("error: Requested operation is not valid: cannot resize the maximum memory on an "
            "active domain") in r.stderr
    r = daemon.virsh("setmem", "guest1", "2097152", check=False)
    assert r.returncode == 1 and "cannot set memory higher than max memory" in r.stderr

    # vcpus
    assert daemon.virsh("vcpucount", "guest1").stdout == (
        "maximum      config         2\n"
        "maximum      live           2\n"
        "current      config         2\n"
        "current      live           2\n\n")
    daemon.virsh("setvcpus", "guest1", "1", "--live")
    assert "current      live           1" in daemon.virsh("vcpucount", "guest1").stdout
    daemon.virsh("setvcpus", "guest1", "2", "--live")
    vi = daemon.virsh("vcpuinfo", "guest1").stdout
    assert re.fullmatch(r"(VCPU:           \d\nCPU:            \d\nState:          running\n"
                        r"CPU time:       [\d.]+s\nCPU Affinity:   yy\n\n){2}", vi), vi

    # suspend / resume
    assert daemon.virsh("suspend", "guest1").stdout == "Domain 'guest1' suspended\n\n"
    assert daemon.virsh("domstate", "guest1", "--reason").stdout == "paused (user)\n\n"
    assert " 1    guest1   paused\n" in daemon.virsh("list").stdout
    assert daemon.virsh("resume", "guest1").stdout == "Domain 'guest1' resumed\n\n"
    assert daemon.virsh("domstate", "guest1", "--reason").stdout == "running (unpaused)\n\n"

    # the guest shuts itself down a moment after being asked
    assert daemon.virsh("shutdown", "guest1").stdout == "Domain 'guest1' is being shutdown\n\n"
    wait_state(daemon, "guest1", "shut off (shutdown)")
    assert daemon.virsh("domid", "guest1").stdout == "-\n\n"

    daemon.virsh("start", "guest1")
    assert daemon.virsh("destroy", "guest1").stdout == "Domain 'guest1' destroyed\n\n"
    assert daemon.virsh("domstate", "guest1", "--reason").stdout == "shut off (destroyed)\n\n"
    r = daemon.virsh("destroy", "guest1", check=False)
    assert r.returncode == 1
    assert "Requested operation is not valid: domain is not running" in r.stderr

    assert daemon.virsh("autostart", "guest1").stdout == \
        "Domain 'guest1' marked as autostarted\n\n"
    assert "Autostart:      enable" in daemon.virsh("dominfo", "guest1").stdout
    assert daemon.virsh("autostart", "--disable", "guest1").stdout == \
        "Domain 'guest1' unmarked as autostarted\n\n"

    assert daemon.virsh("undefine", "guest1").stdout == "Domain 'guest1' has been undefined\n\n"
    assert daemon.virsh("list", "--all").stdout == " Id   Name   State\n" + "-" * 20 + "\n\n"


def test_definitions_persist(daemon):
    import os
    daemon.define("keep", 7)
    daemon.virsh("autostart", "keep")
    daemon.define("was-running", 8)
    daemon.virsh("start", "was-running")
    daemon.virsh("setmem", "was-running", "300000")
    run = os.path.join(daemon.dir, "state", "run", "was-running.json")
    assert os.path.exists(run)  # the run state follows the domain
    assert daemon.stop() == 0
    daemon.start()
    # autostarted by the new daemon
    assert daemon.virsh("domstate", "keep").stdout == "running\n\n"
    assert "Persistent:     yes" in daemon.virsh("dominfo", "keep").stdout
    # the simulated machine died with the old daemon: its domain is shut off, its run state
    # dropped, its definition kept
    assert daemon.virsh("domstate", "was-running").stdout == "shut off\n\n"
    assert not os.path.exists(run)
    assert "was running under an earlier virthvd" in daemon.log_text()


def test_bad_xml(daemon):
    path = daemon.dir + "/bad.xml"
    with open(path, "w") as f:
        f.write("<domain type='kvm'><name>x</name></domain>")
    r = daemon.virsh("define", path, check=False)
    assert r.returncode == 1 and "unsupported configuration" in r.stderr
    with open(path, "w") as f:
        f.write("<domain type='hv'><name>x</name>")
    r = daemon.virsh("define", path, check=False)
    assert r.returncode == 1 and "XML error" in r.stderr
    assert daemon.virsh("list", "--all").stdout == " Id   Name   State\n" + "-" * 20 + "\n\n"


def test_create_transient(daemon):
    path = daemon.dir + "/t.xml"
    from conftest import guest_xml
    with open(path, "w") as f:
        f.write(guest_xml("trans", 9))
    assert daemon.virsh("create", path).stdout == "Domain 'trans' created from %s\n\n" % path
    assert "Persistent:     no" in daemon.virsh("dominfo", "trans").stdout
    daemon.virsh("destroy", "trans")
    assert daemon.virsh("list", "--all").stdout == " Id   Name   State\n" + "-" * 20 + "\n\n"


def test_title_and_description(daemon):
    daemon.define("meta", 11)
    assert daemon.virsh("list", "--all", "--title").stdout == (
        " Id   Name   State      Title\n"
        "-------------------------------\n"
        " -    meta   shut off   \n\n")
    assert daemon.virsh("desc", "meta", "--title", "My guest").stdout == \
        "Domain title updated successfully\n"
    daemon.virsh("desc", "meta", "Line one\nline two")
    assert daemon.virsh("desc", "meta").stdout == "Line one\nline two\n"
    assert " -    meta   shut off   My guest\n" in daemon.virsh("list", "--all", "--title").stdout
    dom = ET.fromstring(daemon.virsh("dumpxml", "meta").stdout)
    assert dom.findtext("title") == "My guest"
    r = daemon.virsh("desc", "meta", "--title", "two\nlines", check=False)
    assert r.returncode == 1
    daemon.virsh("desc", "meta", "--title", "")
    assert ET.fromstring(daemon.virsh("dumpxml", "meta").stdout).find("title") is None


def test_uri_probe_and_foreign_uri(daemon):
    # remote+unix:// sends an empty name: the daemon's only driver answers
    sock = daemon.sock
    r = daemon.virsh("list", "--all")
    assert r.stdout == " Id   Name   State\n" + "-" * 20 + "\n\n"
    import subprocess
    r = subprocess.run(["virsh", "-c", "remote+unix:///?socket=" + sock, "hostname"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout.strip()
    r = subprocess.run(["virsh", "-c", "qemu+unix:///system?socket=" + sock, "list"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "no connection driver available for 'qemu:///system'" in r.stderr, r.stderr
