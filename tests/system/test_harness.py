"""The harness's own tests, on a tiny kernel built here from tests/harness/fixtures/tiny.S (so
they do not depend on hv): exit status mapping, the overall timeout, wait_for's timeout, serial
input, GRUB ISO boot, several machines at once, and that no QEMU outlives its test."""

import os
import subprocess
import time

import pytest

from hvtest import Machine, accel, make_iso, out_dir, source_path


def build_tiny(variant, defines):
    """Assembles the tiny kernel with `defines` into tests/out/fixtures/tiny-<variant>.elf. The
    result is the same bytes whichever process builds it (stripped: the symbol table would name
    the per-process object file), so that parallel test processes can share it."""
    fixtures = out_dir() / "fixtures"
    fixtures.mkdir(exist_ok=True)
    obj = fixtures / f"tiny-{variant}.{os.getpid()}.o"
    elf = fixtures / f"tiny-{variant}.elf"
    tmp = fixtures / f"tiny-{variant}.{os.getpid()}.elf"
    source = source_path("tests/harness/fixtures/tiny.S")
    subprocess.run(["gcc", "-m32", "-c", *defines, source, "-o", str(obj)], check=True)
    subprocess.run(["ld", "-m", "elf_i386", "-s", "-N", "-Ttext=0x100000", "-e", "_start",
                    "-z", "noexecstack", "--no-warn-rwx-segments", "-o", str(tmp), str(obj)],
                   check=True)
    obj.unlink()
    tmp.replace(elf)
    return str(elf)


@pytest.fixture(scope="module")
def tiny_exit0():
    return build_tiny("exit0", ["-DTINY_EXIT", "-DTINY_EXIT_VALUE=0"])


@pytest.fixture(scope="module")
def tiny_exit1():
    return build_tiny("exit1", ["-DTINY_EXIT", "-DTINY_EXIT_VALUE=1"])


@pytest.fixture(scope="module")
def tiny_echo():
    return build_tiny("echo", ["-DTINY_ECHO"])


def group_members(pgid):
    """Pids of the live (not zombie) processes of process group `pgid`."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry))
    return members


@pytest.mark.parametrize("variant,status", [("exit0", 1), ("exit1", 3)])
def test_exit_status_mapping(variant, status, request):
    kernel = request.getfixturevalue(f"tiny_{variant}")
    with Machine(kernel=kernel, timeout=30, name=f"harness-exit-{variant}") as m:
        m.wait_for(r"^tiny: hello$", timeout=20)
        assert m.wait_exit(timeout=20) == status
    with open(m.log_path) as log:
        assert "tiny: hello" in log.read()


def test_overall_timeout_kills_a_hanging_machine(tiny_echo):
    limit = 3 if accel() == "tcg" else 15  # QEMU starts slowly under KVM here
    started = time.monotonic()
    with Machine(kernel=tiny_echo, timeout=limit, name="harness-hang") as m:
        pid = m._proc.pid
        m.wait_for(r"^tiny: echo ready$", timeout=20)
        with pytest.raises(AssertionError, match=rf"timeout of {limit} s"):
            m.wait_exit(timeout=30)
        assert m.timed_out
    assert time.monotonic() - started < limit + 10
    assert group_members(pid) == []


def test_wait_for_a_line_that_never_comes_fails_in_time(tiny_echo):
    with Machine(kernel=tiny_echo, timeout=60, name="harness-never") as m:
        m.wait_for(r"^tiny: echo ready$", timeout=20)
        started = time.monotonic()
        with pytest.raises(AssertionError) as failure:
            m.wait_for(r"^this line never comes$", timeout=2)
        assert 1.9 <= time.monotonic() - started < 6
        message = str(failure.value)
        assert "within 2 s" in message and m.log_path in message
        assert "tiny: echo ready" in message  # the log's tail
        pid = m._proc.pid
    assert group_members(pid) == []


def test_send_reaches_the_serial_console(tiny_echo):
    with Machine(kernel=tiny_echo, timeout=30, name="harness-echo") as m:
        m.wait_for(r"^tiny: echo ready$", timeout=20)
        mark = m.mark()
        m.send("ping 42\n")
        m.wait_for(r"^ping 42$", timeout=10, since=mark)
        with pytest.raises(AssertionError):
            m.wait_for(r"^tiny: echo ready$", timeout=0.5, since=mark)


@pytest.mark.parametrize("exception", [RuntimeError, KeyboardInterrupt])
def test_machine_ends_with_its_block_on_errors(tiny_echo, exception):
    with pytest.raises(exception):
        with Machine(kernel=tiny_echo, timeout=60, name="harness-raise") as m:
            m.wait_for(r"^tiny: echo ready$", timeout=20)
            pid = m._proc.pid
            raise exception()
    assert m.status is not None
    assert group_members(pid) == []


def test_several_machines_at_once(tiny_echo):
    machines = [Machine(kernel=tiny_echo, timeout=30, name="harness-parallel", cpus=2)
                for _ in range(3)]
    assert len({m.log_path for m in machines}) == 3
    try:
        for m in machines:
            m.start()
        for i, m in enumerate(machines):
            m.wait_for(r"^tiny: echo ready$", timeout=20)
            m.send(f"machine {i}\n")
        for i, m in enumerate(machines):
            m.wait_for(rf"^machine {i}$", timeout=10)
            assert "machine" not in m.output().replace(f"machine {i}", "")
    finally:
        for m in machines:
            m.close()
    assert all(group_members(m._proc.pid) == [] for m in machines)


def test_grub_iso_boot(tiny_exit0):
    iso = make_iso(tiny_exit0, "some=option", [(tiny_exit0, "a module")])
    assert make_iso(tiny_exit0, "some=option", [(tiny_exit0, "a module")]) == iso  # cached
    assert make_iso(tiny_exit0, "other=option", [(tiny_exit0, "a module")]) != iso
    with Machine(iso=iso, timeout=60, name="harness-iso") as m:
        m.wait_for(r"^tiny: hello$", timeout=40)
        assert m.wait_exit(timeout=20) == 1


@pytest.mark.parametrize("boot", ["kernel", "iso"])
def test_loaders_pass_command_line_and_modules(boot, tiny_exit0, tiny_exit1):
    # QEMU's multiboot1 loader puts the file's path first in each string; GRUB passes the words
    # after the file name only.
    kernel = build_tiny("args", ["-DTINY_ARGS"])
    modules = [(tiny_exit0, "first module"), (tiny_exit1, "second,with=comma")]
    with Machine(kernel=kernel, boot=boot, cmdline="a=1 b=two,three  c", modules=modules,
                 timeout=60, name=f"harness-args-{boot}") as m:
        cmdline = m.wait_for(r"^tiny: cmdline (.*)$", timeout=40)
        first = m.wait_for(r"^tiny: module (.*)$")
        second = m.wait_for(r"^tiny: module (.*)$", since=first.end())
        assert m.wait_exit(timeout=20) == 1
    prefix = {"kernel": lambda path: path + " ", "iso": lambda path: ""}[boot]
    assert cmdline.group(1) == prefix(kernel) + ("a=1 b=two,three  c" if boot == "kernel"
                                                  else "a=1 b=two,three c")
    assert first.group(1) == prefix(tiny_exit0) + "first module"
    assert second.group(1) == prefix(tiny_exit1) + "second,with=comma"
