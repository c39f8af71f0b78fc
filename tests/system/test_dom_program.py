"""dom0's `dom` program (guest-kernel/user/dom.c over SYS_domctl, kernel/sys_domctl.c).

hv boots guest.elf as dom0 running its shell with a script of `dom` commands, and guest.elf again
as boot module 1, from which `dom create` builds a domU that blocks forever (`domu=idle`).
Checked: every subcommand's output, that hv's free memory after destroy equals that before create,
the error of an operation on a domain that does not exist, and that the system call is refused
in a domU (by hv) and natively (there is no hypervisor to forward to).
"""

import re

from hvtest import Machine, build_path

SCRIPT = ('dom physinfo; dom create a 8192 1 1 "domu=idle"; dom list; dom pause 1; dom info 1; '
          'dom unpause 1; dom info 1; dom sched 1 weight=512; dom sched 1; dom mem 1 max 16384; '
          'dom info 1; dom destroy 1; dom physinfo; dom destroy 42; dom info 1; dom bogus; '
          'dom list; dom create b 8192 1 1 -- dom physinfo; sleep 5000; dom info 2; dom destroy 2; '
          'dom physinfo; poweroff')


def run_script(name, timeout=180):
    guest = build_path("guest-kernel/guest.elf")
    with Machine(kernel=build_path("hv/hv.elf"), cmdline="on_dom0_exit=exit dom0_mem=32M sched=resv",
                 modules=[(guest, f"-- {SCRIPT}"), (guest, "")],
                 cpus=1, mem="512M", timeout=timeout, name=name) as m:
        m.wait_for(r"^\(d0\) hvguest: power off requested", timeout=timeout - 20)
        m.wait_for(r"^domain 0 shutdown: poweroff", timeout=30)
        m.wait_exit(timeout=30)
        return m.output()


def info_block(out, start):
    """The `dom info` lines (key: value) that follow position start, as a dict."""
    fields = {}
    for line in out[start:].splitlines()[1:]:
        mo = re.match(r"^\(d0\) (\w+): (.*)$", line)
        if not mo:
            if fields:
                break
            continue
        fields[mo.group(1)] = mo.group(2).strip()
        if mo.group(1) == "cpu_time_ms":
            break
    return fields


def test_dom_program_on_hv():
    out = run_script("dom-program")
    assert "PANIC" not in out and "panic" not in out

    free = [int(f) for f in re.findall(r"physinfo: cpus \d+, cpu_khz \d+, total_kib \d+, "
                                       r"free_kib \d+, free_frames (\d+), domains", out)]
    assert len(free) == 3, out
    assert free[0] == free[1] == free[2], f"free frames before create and after destroys: {free}"
    doms = re.findall(r"^\(d0\) physinfo: .* domains (\d+) of \d+", out, re.M)
    assert doms == ["1", "1", "1"], doms

    assert re.search(r"dom: created a as domain 1$", out, re.M), out
    assert 'domain 1 built: hvguest kernel, 8192 KiB, entry 0x' in out
    assert re.search(r'^domain 1 built: .* command line "domu=idle"$', out, re.M), out
    rows = re.findall(r"^\(d0\)\s+(\d+) (\S+)\s+(\w+)\s+(\d+)\s+(\d+)\s+(\d+)", out, re.M)
    assert ("1", "a", "running", "1", "8192", "8192") in rows, rows
    assert any(r[0] == "0" for r in rows), rows

    assert "dom: pause 1: ok" in out and "dom: unpause 1: ok" in out
    infos = [info_block(out, mo.start()) for mo in re.finditer(r"^\(d0\) id: 1$", out, re.M)]
    assert len(infos) == 3, infos
    assert infos[0]["name"] == "a" and infos[0]["state"] == "paused"
    assert infos[0]["max_mem_kib"] == "8192" and infos[0]["vcpus"] == "1 of 1"
    assert infos[0]["privileged"] == "no"
    assert infos[1]["state"] == "running"
    assert infos[2]["max_mem_kib"] == "16384"

    sched = re.findall(r"sched 1: weight=(\d+) cap=(\d+) reservation=(\d+)", out)
    assert len(sched) == 2 and sched[0] == sched[1] and sched[0][0] == "512", sched
    assert "dom: mem 1 max 16384 KiB: ok" in out

    assert "dom: destroy 1: ok" in out
    assert "dom: destroy 42: No such domain (ESRCH)" in out
    assert "dom: info 1: No such domain (ESRCH)" in out
    assert "usage: dom physinfo" in out
    # After destroy the list holds dom0 only.
    last_list = out.rsplit("ID NAME", 1)[1]
    assert not re.search(r"^\(d0\)\s+1 a ", last_list, re.M)

    # A domU running `dom` gets hv's refusal; it then powers itself off.
    assert re.search(r"dom: created b as domain 2$", out, re.M), out
    assert re.search(r"^\(d2\) dom: physinfo: Operation not permitted \(EPERM\)$", out, re.M), out
    # dom exits 1 on failure: the domU's init (the shell) ends with the last command's status.
    assert re.search(r"^\(d2\) hvguest: init exited with status 256", out, re.M), out
    info2 = [info_block(out, mo.start()) for mo in re.finditer(r"^\(d0\) id: 2$", out, re.M)]
    assert len(info2) == 1 and info2[0]["state"] == "shutdown", info2
    assert "dom: destroy 2: ok" in out


def test_dom_program_native_refused():
    with Machine(kernel=build_path("guest-kernel/guest.elf"),
                 cmdline="-- dom physinfo; dom list; poweroff",
                 cpus=1, mem="256M", timeout=60, name="dom-program-native") as m:
        m.wait_for(r"^hvguest: power off requested", timeout=40)
        m.wait_exit(timeout=30)
        out = m.output()
    assert "dom: physinfo: Operation not permitted (EPERM)" in out
    assert "dom: list: Operation not permitted (EPERM)" in out
