"""pytest configuration of the system tests: puts the harness (tests/harness) on sys.path,
decides the accelerator once and prints it at the start of the run, and attaches the tail of
every serial log of a failed test to its report."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))

import hvtest  # noqa: E402


def pytest_configure(config):
    # Tests whose checks are timing figures of the emulated machine (CPU shares, many emulated
    # CPUs on few host cores) run alone, after the parallel part (tests/system/run-pytest).
    config.addinivalue_line("markers", "serial: run alone, not beside other machines")
    # Decided here, in the controlling process, before any pytest-xdist worker starts: the workers
    # inherit the decision through the environment (HV_ACCEL_DECIDED).
    if not hasattr(config, "workerinput"):
        hvtest.accel()


def pytest_report_header(config):
    return hvtest.accel_description()


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session):
    # With -q pytest prints no header: say it anyway, once.
    config = session.config
    if hasattr(config, "workerinput") or config.getoption("verbose") >= 0:
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter:
        reporter.write_line(hvtest.accel_description())


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    hvtest.take_started_machines()  # forget the machines of earlier tests


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for m in hvtest.started_machines():
            report.sections.append((f"serial log {m.name} ({m.log_path})", m.tail()))
