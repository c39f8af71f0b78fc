"""python3-libvirt (Debian 9.0) against virthvd: the calls virt-manager makes (reference 5.4),
typed parameters, getAllDomainStats, CPU stats, events through the default event loop, the
console as a libvirt stream, and the read-only socket."""

import threading
import time
import xml.etree.ElementTree as ET

import libvirt
import pytest

from conftest import ConsoleReader, guest_xml, start_event_loop

@pytest.fixture
def conn(daemon):
    c = libvirt.open(daemon.uri)
    yield c
    c.close()


def test_connection_and_node(conn):
    assert conn.getType() == "hv"
    assert conn.getVersion() > 0
    assert conn.getLibVersion() >= 9000000
    assert conn.getHostname()
    assert conn.isAlive() == 1
    assert conn.isSecure() == 1
    assert conn.isEncrypted() == 0
    model, memory_mib, cpus, mhz, nodes, sockets, cores, threads = conn.getInfo()
    assert (model, memory_mib, cpus, nodes) == ("x86_64", 4096, 2, 1)
    assert conn.getFreeMemory() == 4194304 * 1024
    assert conn.getMaxVcpus(None) >= 2
    assert conn.getMemoryStats(-1, 0)["total"] == 4194304
    caps = ET.fromstring(conn.getCapabilities())
    assert caps.find("guest/arch/domain").get("type") == "hv"
    assert conn.listAllDomains(0) == []
    assert conn.numOfDomains() == 0 and conn.numOfDefinedDomains() == 0
    assert conn.getURI() == "hv+unix:///system?socket=" + conn.getURI().split("=", 1)[1]


def test_domain_api(conn):
    dom = conn.defineXML(guest_xml("py", 5))
    assert dom.name() == "py" and dom.ID() == -1
    assert conn.listDefinedDomains() == ["py"]
    assert dom.isPersistent() == 1 and dom.isActive() == 0
    assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, 0]
    assert dom.info()[0] == libvirt.VIR_DOMAIN_SHUTOFF
    assert dom.hasManagedSaveImage(0) == 0
    assert dom.OSType() == "linux"
    assert dom.maxMemory() == 1048576
    assert dom.maxVcpus() == 2

    dom.setMaxMemory(2097152)  # offline: changes the definition
    assert dom.maxMemory() == 2097152
    dom.create()
    dom = conn.lookupByName("py")
    assert dom.ID() == 1
    assert conn.lookupByID(1).UUIDString() == dom.UUIDString()
    assert conn.lookupByUUIDString(dom.UUIDString()).name() == "py"
    assert conn.listDomainsID() == [1]
    state, maxmem, mem, nvcpus, cputime = dom.info()
    assert (state, maxmem, mem, nvcpus) == (libvirt.VIR_DOMAIN_RUNNING, 2097152, 524288, 2)
    assert dom.state() == [libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_BOOTED]
    assert ET.fromstring(dom.XMLDesc(0)).get("id") == "1"
    assert ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)).get("id") is None

    dom.setMemory(262144)
    assert dom.info()[2] == 262144
    assert dom.memoryStats()["actual"] == 262144
    assert dom.vcpusFlags(libvirt.VIR_DOMAIN_VCPU_LIVE) == 2
    dom.setVcpusFlags(1, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    assert dom.vcpusFlags(libvirt.VIR_DOMAIN_VCPU_LIVE) == 1
    assert dom.vcpusFlags(libvirt.VIR_DOMAIN_VCPU_CONFIG) == 2
    info, maps = dom.vcpus()
    assert len(info) == 1 and info[0][1] == libvirt.VIR_VCPU_RUNNING

    assert dom.schedulerType() == ("proportional", 3)
    assert dom.schedulerParameters() == {"weight": 256, "cap": 0, "reservation": 0}
    dom.setSchedulerParametersFlags({"weight": 100, "reservation": 50},
                                    libvirt.VIR_DOMAIN_AFFECT_LIVE)
    assert dom.schedulerParametersFlags(libvirt.VIR_DOMAIN_AFFECT_LIVE)["weight"] == 100
    assert dom.schedulerParametersFlags(libvirt.VIR_DOMAIN_AFFECT_CONFIG)["weight"] == 256
    with pytest.raises(libvirt.libvirtError) as e:
        dom.setSchedulerParametersFlags({"reservation": 100}, 0)  # 1 vcpu x 100% fits
        dom.setVcpusFlags(2, libvirt.VIR_DOMAIN_AFFECT_LIVE)  # 2 x 100% = 200% fits too
        dom2 = conn.defineXML(guest_xml("py2", 6))
        dom2.setSchedulerParametersFlags({"reservation": 1}, libvirt.VIR_DOMAIN_AFFECT_CONFIG)
        dom2.create()
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
    assert "does not fit" in e.value.get_error_message()

    assert dom.memoryParameters(0) == {"min_guarantee": 0}
    dom.setMemoryParameters({"min_guarantee": 65536}, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    assert dom.memoryParameters(libvirt.VIR_DOMAIN_AFFECT_LIVE)["min_guarantee"] == 65536
    assert dom.interfaceParameters("vif5.0", 0)["inbound.average"] == 0
    dom.setInterfaceParameters("vif5.0", {"inbound.average": 800, "outbound.average": 700, "outbound.peak": 900}, 0)
    p = dom.interfaceParameters("00:16:3e:00:00:05", 0)
    assert (p["inbound.average"], p["outbound.peak"]) == (800, 900)

    total = dom.getCPUStats(True)
    assert len(total) == 1 and total[0]["cpu_time"] > 0
    per_cpu = dom.getCPUStats(False)
    assert len(per_cpu) == 2
    assert sum(c["cpu_time"] for c in per_cpu) > 0

    stats = conn.getAllDomainStats(0, 0)
    assert len(stats) == 2  # py (running) and py2 (shut off)
    byname = {d.name(): s for d, s in stats}
    s = byname["py"]
    assert s["state.state"] == libvirt.VIR_DOMAIN_RUNNING and s["state.reason"] == 1
    assert s["cpu.time"] > 0 and s["balloon.current"] == 262144
    assert s["balloon.maximum"] == 2097152
    assert s["vcpu.current"] == 2 and s["vcpu.maximum"] == 2
    assert "vcpu.0.time" in s and s["vcpu.1.state"] == libvirt.VIR_VCPU_RUNNING
    # I/O counts of the devices (the simulation moves no data: zeros).
    assert s["net.count"] == 1 and s["net.0.name"] == "vif5.0" and s["net.0.rx.bytes"] == 0
    assert s["block.count"] == 0
    assert "net.count" not in byname["py2"]
    assert byname["py2"]["state.state"] == libvirt.VIR_DOMAIN_SHUTOFF
    only = conn.domainListGetStats([dom], libvirt.VIR_DOMAIN_STATS_STATE, 0)
    assert len(only) == 1 and set(only[0][1]) == {"state.state", "state.reason"}
    running = conn.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_STATE,
                                     libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE)
    assert [d.name() for d, _ in running] == ["py"]
    with pytest.raises(libvirt.libvirtError) as e:
        conn.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_PERF,
                               libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS)
    assert e.value.get_error_code() == libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED

    active = conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
    assert [d.name() for d in active] == ["py"]
    inactive = conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE)
    assert [d.name() for d in inactive] == ["py2"]

    dom.destroy()
    dom.undefine()
    with pytest.raises(libvirt.libvirtError) as e:
        conn.lookupByName("py")
    assert e.value.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN
    assert e.value.get_error_message() == \
        "Domain not found: no domain with matching name 'py'"


def test_unsupported_call(conn):
    dom = conn.defineXML(guest_xml("u", 8))
    with pytest.raises(libvirt.libvirtError) as e:
        dom.blockInfo("xvda", 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT


def test_events_and_console_stream(daemon):
    start_event_loop()
    conn = libvirt.open(daemon.uri)
    seen = []
    conn.domainEventRegisterAny(
        None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
        lambda c, d, event, detail, opaque: seen.append((d.name(), event, detail)), None)
    balloon = []
    conn.domainEventRegisterAny(
        None, libvirt.VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE,
        lambda c, d, actual, opaque: balloon.append((d.name(), actual)), None)
    dom = conn.defineXML(guest_xml("ev", 3))
    dom.create()
    dom.setMemory(300000)
    st = conn.newStream(0)
    dom.openConsole(None, st, 0)
    reader = ConsoleReader(st)
    banner = reader.wait(lambda got: b"echoed back.\r\n" in got)
    assert b"echoed back.\r\n" in banner
    assert b"SIMULATED machine" in banner
    st.send(b"sim-crash\r")  # the simulated guest crashes (on_crash defaults to destroy)
    rest = reader.wait(lambda got: False)[len(banner):]  # until EOF: the domain is gone
    assert reader.eof
    assert b"echo: sim-crash\r\n" in rest
    reader.close()
    st.finish()
    deadline = time.time() + 5
    while len(seen) < 4 and time.time() < deadline:
        time.sleep(0.05)
    E = libvirt
    assert seen == [("ev", E.VIR_DOMAIN_EVENT_DEFINED, E.VIR_DOMAIN_EVENT_DEFINED_ADDED),
                    ("ev", E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED),
                    ("ev", E.VIR_DOMAIN_EVENT_CRASHED, E.VIR_DOMAIN_EVENT_CRASHED_PANICKED),
                    ("ev", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_CRASHED)]
    assert dom.state() == [E.VIR_DOMAIN_SHUTOFF, E.VIR_DOMAIN_SHUTOFF_CRASHED]
    assert balloon == [("ev", 300000)]
    conn.close()


def test_read_only_socket(daemon):
    daemon.define("ro", 4)
    ro = libvirt.open(daemon.uri_ro)  # not opened read-only: the daemon enforces it
    dom = ro.lookupByName("ro")
    assert dom.info()[0] == libvirt.VIR_DOMAIN_SHUTOFF
    for call in (dom.create, dom.undefine, lambda: ro.defineXML(guest_xml("x", 9)),
                 lambda: dom.setMemoryFlags(1024, libvirt.VIR_DOMAIN_AFFECT_CONFIG)):
        with pytest.raises(libvirt.libvirtError) as e:
            call()
        assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
        assert e.value.get_error_message().startswith(
            "operation forbidden: read only access prevents vir")
    ro.close()
    r = daemon.virsh("start", "ro", ro=True, check=False)
    assert r.returncode == 1
    assert "operation forbidden: read only access prevents virDomainCreate" in r.stderr
    # a read-write connection opened with VIR_CONNECT_RO is read-only too
    rw_ro = libvirt.openReadOnly(daemon.uri)
    with pytest.raises(libvirt.libvirtError):
        rw_ro.lookupByName("ro").create()
    rw_ro.close()
    assert daemon.virsh("domstate", "ro").stdout == "shut off\n\n"


def test_console_stream_bulk(daemon):
    """Half a megabyte of input in one go: the client cuts it into 256 KiB stream packets, the
    echo (twice as much) comes back cut into packets of at most 262120 bytes, in order."""
    start_event_loop()  # before the connection, so that it is read by the event loop
    conn = libvirt.open(daemon.uri)
    dom = conn.defineXML(guest_xml("bulk", 10))
    dom.create()
    st = conn.newStream(0)
    dom.openConsole(None, st, 0)
    reader = ConsoleReader(st)
    banner = reader.wait(lambda got: b"echoed back.\r\n" in got)
    assert banner.endswith(b"echoed back.\r\n")
    lines = [(b"%05d" % i) * 800 for i in range(128)]  # 4000 bytes each
    data = b"\r".join(lines) + b"\r"
    assert st.send(data) == len(data)
    want = b"".join(l + b"\r\necho: " + l + b"\r\n" for l in lines)
    echo = reader.wait(lambda got: len(got) >= len(banner) + len(want))[len(banner):]
    assert not reader.eof, "EOF before the whole echo came back"
    assert echo == want
    reader.close()
    st.finish()
    dom.destroy()
    conn.close()


def test_metadata(daemon):
    start_event_loop()
    conn = libvirt.open(daemon.uri)
    changes = []
    conn.domainEventRegisterAny(
        None, libvirt.VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
        lambda c, d, mtype, nsuri, opaque: changes.append((d.name(), mtype, nsuri)), None)
    dom = conn.defineXML(guest_xml("md", 12))
    with pytest.raises(libvirt.libvirtError) as e:
        dom.metadata(libvirt.VIR_DOMAIN_METADATA_TITLE, None)
    assert e.value.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_METADATA
    dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_TITLE, "Title", None, None, 0)
    dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, "Text", None, None, 0)
    assert dom.metadata(libvirt.VIR_DOMAIN_METADATA_TITLE, None) == "Title"
    assert dom.metadata(libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, None) == "Text"
    with pytest.raises(libvirt.libvirtError) as e:
        dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, "<a/>", "k", "http://x/", 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED
    deadline = time.time() + 5
    while len(changes) < 2 and time.time() < deadline:
        time.sleep(0.05)
    assert changes == [("md", libvirt.VIR_DOMAIN_METADATA_TITLE, None),
                       ("md", libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, None)]
    conn.close()
