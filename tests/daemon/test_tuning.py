"""Typed parameters through virsh: scheduler weight/cap/reservation (live and --config),
reservation admission on the simulated 2-CPU machine (200% in all), memtune min_guarantee,
domiftune bandwidth and blkdeviotune disk limits."""

import xml.etree.ElementTree as ET


def sched(daemon, name, *flags):
    out = daemon.virsh("schedinfo", name, *flags).stdout
    lines = dict(l.split(":", 1) for l in out.strip().splitlines())
    return {k.strip(): v.strip() for k, v in lines.items()}


def test_schedinfo_live_and_config(daemon):
    daemon.define("g", 1)
    daemon.virsh("start", "g")
    assert daemon.virsh("schedinfo", "g").stdout == (
        "Scheduler      : proportional\n"
        "weight         : 256\n"
        "cap            : 0\n"
        "reservation    : 0\n\n")
    out = daemon.virsh("schedinfo", "g", "--set", "weight=512", "--live").stdout
    assert "weight         : 512\n" in out
    assert sched(daemon, "g", "--live")["weight"] == "512"
    assert sched(daemon, "g", "--config")["weight"] == "256"

    daemon.virsh("schedinfo", "g", "--set", "cap=50", "--config")
    assert sched(daemon, "g", "--config")["cap"] == "50"
    assert sched(daemon, "g", "--live")["cap"] == "0"
    # without flags a running domain's live values change
    daemon.virsh("schedinfo", "g", "--set", "cap=150")
    assert sched(daemon, "g", "--live")["cap"] == "150"

    # the config survives a restart of the domain, the live value does not
    daemon.virsh("destroy", "g")
    daemon.virsh("start", "g")
    s = sched(daemon, "g")
    assert (s["weight"], s["cap"]) == ("256", "50")

    r = daemon.virsh("schedinfo", "g", "--set", "weight=0", check=False)
    assert r.returncode == 1 and "error:" in r.stderr
    r = daemon.virsh("schedinfo", "g", "--set", "reservation=101", check=False)
    assert r.returncode == 1 and "error:" in r.stderr
    r = daemon.virsh("schedinfo", "g", "--set", "bogus=1", check=False)
    assert r.returncode == 1
    assert sched(daemon, "g")["reservation"] == "0"


def test_reservation_admission(daemon):
    daemon.define("a", 1)
    daemon.define("b", 2)
    daemon.virsh("start", "a")
    # a: 2 vcpus x 60% = 120% of 200%
    daemon.virsh("schedinfo", "a", "--set", "reservation=60", "--live")
    # b would need 2 x 60% = 120% more: refused at start, with the numbers
    daemon.virsh("schedinfo", "b", "--set", "reservation=60", "--config")
    r = daemon.virsh("start", "b", check=False)
    assert r.returncode == 1
    assert ("error: Requested operation is not valid: reservation of 60% for each of the 2 vcpus "
            "of domain 'b' (120%) does not fit: 120% of the machine's 200% (2 physical CPUs) "
            "is already reserved") in r.stderr, r.stderr
    assert daemon.virsh("domstate", "b").stdout == "shut off\n\n"

    # 40% each fits exactly (120 + 80 = 200)
    daemon.virsh("schedinfo", "b", "--set", "reservation=40", "--config")
    daemon.virsh("start", "b")
    # now nothing is left: a live increase is refused and changes nothing
    r = daemon.virsh("schedinfo", "a", "--set", "reservation=61", "--live", check=False)
    assert r.returncode == 1
    assert "does not fit: 80% of the machine's 200% (2 physical CPUs)" in r.stderr, r.stderr
    assert sched(daemon, "a", "--live")["reservation"] == "60"
    # more vcpus would need more reservation too
    daemon.virsh("setvcpus", "a", "1", "--live")  # 60 + 80 = 140
    daemon.virsh("schedinfo", "a", "--set", "reservation=100", "--live")  # 100 + 80
    r = daemon.virsh("setvcpus", "a", "2", "--live", check=False)  # 200 + 80 > 200
    assert r.returncode == 1 and "does not fit" in r.stderr
    # freeing b's share makes room again
    daemon.virsh("destroy", "b")
    daemon.virsh("setvcpus", "a", "2", "--live")
    daemon.virsh("schedinfo", "a", "--set", "reservation=100", "--live")
    assert sched(daemon, "a", "--live")["reservation"] == "100"


def test_memtune_min_guarantee(daemon):
    daemon.define("m", 3)
    assert daemon.virsh("memtune", "m").stdout == "min_guarantee  : 0\n\n"
    daemon.virsh("memtune", "m", "--min-guarantee", "65536", "--config")
    daemon.virsh("start", "m")
    assert daemon.virsh("memtune", "m").stdout == "min_guarantee  : 65536\n\n"
    daemon.virsh("memtune", "m", "--min-guarantee", "131072", "--live")
    assert daemon.virsh("memtune", "m", "--live").stdout == "min_guarantee  : 131072\n\n"
    assert daemon.virsh("memtune", "m", "--config").stdout == "min_guarantee  : 65536\n\n"
    # the balloon cannot go below the guarantee
    r = daemon.virsh("setmem", "m", "100000", check=False)
    assert r.returncode == 1 and "guaranteed minimum" in r.stderr
    r = daemon.virsh("memtune", "m", "--hard-limit", "100000", check=False)
    assert r.returncode == 1


def test_domiftune(daemon):
    daemon.define("n", 4)
    daemon.virsh("start", "n")
    zero = ("inbound.average: 0\ninbound.peak   : 0\ninbound.burst  : 0\ninbound.floor  : 0\n"
            "outbound.average: 0\noutbound.peak  : 0\noutbound.burst : 0\n\n")
    assert daemon.virsh("domiftune", "n", "vif4.0").stdout == zero
    assert daemon.virsh("domiftune", "n", "vif4.0", "--inbound", "1000,2000,3000",
                        "--live").stdout == "\n"
    assert daemon.virsh("domiftune", "n", "vif4.0").stdout == (
        "inbound.average: 1000\ninbound.peak   : 2000\ninbound.burst  : 3000\n"
        "inbound.floor  : 0\noutbound.average: 0\noutbound.peak  : 0\noutbound.burst : 0\n\n")
    # by MAC, and --config untouched
    assert daemon.virsh("domiftune", "n", "00:16:3e:00:00:04", "--config").stdout == zero
    daemon.virsh("domiftune", "n", "vif4.0", "--outbound", "500,600,700", "--config")
    assert "outbound.average: 500" in daemon.virsh("domiftune", "n", "vif4.0",
                                                   "--config").stdout
    r = daemon.virsh("domiftune", "n", "vif9.9", check=False)
    assert r.returncode == 1
    assert "invalid argument: 'vif9.9' is not a known interface" in r.stderr


def test_blkdeviotune(daemon):
    daemon.define("d", 5, disk=True)
    daemon.virsh("start", "d")
    names = ["total_bytes_sec", "read_bytes_sec", "write_bytes_sec", "total_iops_sec",
             "read_iops_sec", "write_iops_sec"]

    def limits(*flags):
        out = daemon.virsh("blkdeviotune", "d", "xvda", *flags).stdout
        return [int(l.split(":")[1]) for l in out.strip().splitlines()]
    out = daemon.virsh("blkdeviotune", "d", "xvda").stdout
    assert out == "".join("%-15s: 0\n" % n for n in names) + "\n"
    daemon.virsh("blkdeviotune", "d", "xvda", "--total-bytes-sec", "1048576",
                 "--read-iops-sec", "100", "--live")
    assert limits() == [1048576, 0, 0, 0, 100, 0]
    assert limits("--config") == [0] * 6
    iotune = ET.fromstring(daemon.virsh("dumpxml", "d").stdout).find("devices/disk/iotune")
    assert iotune.findtext("total_bytes_sec") == "1048576"
    # a read limit replaces the total of its kind, as in libvirt
    daemon.virsh("blkdeviotune", "d", "xvda", "--read-bytes-sec", "5000", "--live")
    assert limits() == [0, 5000, 0, 0, 100, 0]
    daemon.virsh("blkdeviotune", "d", "xvda", "--write-iops-sec", "7", "--config")
    daemon.virsh("destroy", "d")
    daemon.virsh("start", "d")
    assert limits() == [0, 0, 0, 0, 0, 7]
    r = daemon.virsh("blkdeviotune", "d", "xvdz", check=False)
    assert r.returncode == 1
    assert "invalid argument: disk 'xvdz' was not found in the domain config" in r.stderr
