#!/usr/bin/env python3
"""Machines with nothing to boot (no -kernel; tessera has no firmware):
the tutorial line `-M q35 -trace 'ich9*' -trace 'tco*' -display none
-serial stdio -accel tcg` runs as written, prints the ICH9 set-up trace
lines and one notice, keeps its vCPUs halted (no CPU spinning) and ends
cleanly on SIGTERM, SIGINT, `quit` on the monitor or QMP; system_reset
keeps vCPU 0 off; the machine migrates to a file and back; pc and virt
do the same. No guest boots.

usage: test-no-kernel.py PATH-TO-TESSERA     (TAP on stdout)
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from tesstest import Qmp, check, tap_report  # noqa: E402

TESSERA = sys.argv[1] if len(sys.argv) > 1 else "tessera"
TUTORIAL = ["-M", "q35", "-trace", "ich9*", "-trace", "tco*", "-display", "none",
            "-serial", "stdio", "-accel", "tcg"]
NOTICE = "nothing to boot: no -kernel given, and tessera has no firmware"


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_stderr(path, want, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open(path, errors="replace") as f:
            text = f.read()
        if all(w in text for w in want):
            return text
        time.sleep(0.1)
    with open(path, errors="replace") as f:
        return f.read()


def idle_share(pid, seconds=2.0):
    """CPU time the process used over seconds of wall time, as a share."""
    c0, t0 = cpu_seconds(pid), time.time()
    time.sleep(seconds)
    return (cpu_seconds(pid) - c0) / (time.time() - t0)


def tutorial(tmp, sig, name):
    err = os.path.join(tmp, name + ".err")
    with open(err, "w") as ef:
        p = subprocess.Popen([TESSERA] + TUTORIAL, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=ef)
    text = wait_stderr(err, [NOTICE, "ich9_lpc_pm_init"])
    if sig == signal.SIGTERM:
        check("tutorial: one notice line on stderr, naming q35",
              text.count(NOTICE) == 1 and "machine 'q35': " + NOTICE in text, text)
        check("tutorial: the ICH9 LPC/PM set-up the board does is traced (ich9*)",
              "ich9_lpc_pm_init PMBASE 0x600 SCI IRQ 9" in text, text)
        check("tutorial: no event matches tco* (the ICH9 here has no TCO watchdog): "
              "no warning either", "tco" not in text.replace("tco*", ""), text)
        share = idle_share(p.pid)
        check("tutorial: the vCPUs stay halted (process under 30%% of a CPU: %.0f%%)"
              % (100 * share), share < 0.30, share)
    p.send_signal(sig)
    try:
        rc = p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = "hung"
    check("tutorial: %s ends it with status 0" % name, rc == 0, rc)


def monitor_quit(machine, extra=()):
    p = subprocess.run([TESSERA, "-M", machine, "-display", "none", "-monitor", "stdio"]
                       + list(extra), input=b"info status\nquit\n", capture_output=True,
                       timeout=60)
    out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    check("%s: starts without -kernel, monitor answers, quit exits 0" % machine,
          p.returncode == 0 and "VM status: running" in out and
          err.count("machine '%s': %s" % (machine, NOTICE)) == 1, out + err)


def qmp_vm(tmp, name, *args):
    sock = os.path.join(tmp, name + ".sock")
    err = open(os.path.join(tmp, name + ".err"), "w")
    p = subprocess.Popen([TESSERA, "-M", "q35", "-m", "64M", "-display", "none",
                          "-trace", "ich9_lpc_reset",
                          "-qmp", "unix:%s,server=on,wait=off" % sock] + list(args),
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    q = Qmp(sock)
    q.negotiate()
    return p, q, err.name


def finish(p, q):
    try:
        q.cmd("quit")
    except (OSError, EOFError):
        pass
    try:
        return p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        return "hung"


def qmp_reset_and_migrate(tmp):
    stream = os.path.join(tmp, "q35.mig")
    p, q, err = qmp_vm(tmp, "src")
    check("qmp: running, vCPU 0 present", q.status() == "running" and
          len(q.cmd("query-cpus-fast").get("return", [])) == 1)
    q.cmd("system_reset")
    text = wait_stderr(err, ["ich9_lpc_reset PM block at 0x600"])
    share = idle_share(p.pid, 1.5)
    check("qmp: system_reset resets the ICH9 (traced), vCPU 0 stays off (%.0f%%)"
          % (100 * share), "ich9_lpc_reset PM block at 0x600" in text and share < 0.30
          and text.count(NOTICE) == 1, (share, text))
    r = q.cmd("migrate", {"uri": "file:" + stream})
    deadline = time.time() + 30
    st = None
    while time.time() < deadline:
        st = q.cmd("query-migrate").get("return", {}).get("status")
        if st in ("completed", "failed"):
            break
        time.sleep(0.1)
    check("qmp: migrate to file: completes", "error" not in r and st == "completed", (r, st))
    check("qmp: quit exits 0", finish(p, q) == 0)
    p, q, err = qmp_vm(tmp, "dst", "-incoming", "file:" + stream)
    deadline = time.time() + 30
    while time.time() < deadline and q.status() != "running":
        time.sleep(0.1)
    time.sleep(0.5)  # the load itself takes CPU: measure after it
    share = idle_share(p.pid, 1.5)
    check("qmp: the destination loads it and runs with vCPU 0 still off (%.0f%%)"
          % (100 * share), q.status() == "running" and share < 0.30, share)
    check("qmp: destination quits with 0", finish(p, q) == 0)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        tutorial(tmp, signal.SIGTERM, "SIGTERM")
        tutorial(tmp, signal.SIGINT, "SIGINT (Ctrl-C)")
        monitor_quit("q35", ["-trace", "ich9*"])
        monitor_quit("pc")
        monitor_quit("virt")
        qmp_reset_and_migrate(tmp)
    sys.exit(tap_report())


main()
