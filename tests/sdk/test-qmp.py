#!/usr/bin/env python3
"""QMP and HMP of the real tessera binary, over a real unix socket.

usage: test-qmp.py PATH-TO-TESSERA     (TAP on stdout)
"""
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import time

TESSERA = sys.argv[1] if len(sys.argv) > 1 else "tessera"
SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def abi_version():
    """MAJOR.MINOR from the SDK header, which --version prints."""
    with open(os.path.join(SRC, "sdk", "include", "tessera", "types.h")) as f:
        defs = dict(l.split()[1:3] for l in f if l.startswith("#define TES_ABI_M"))
    return "%s.%s" % (defs["TES_ABI_MAJOR"], defs["TES_ABI_MINOR"])
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tesstest import Qmp, check, tap_report  # noqa: E402

def qmp_tests(tmp):
    path = os.path.join(tmp, "qmp.sock")
    proc = subprocess.Popen(
        [TESSERA, "-M", "none", "-qmp", "unix:%s,server=on,wait=off" % path,
         "-display", "none"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        q = Qmp(path)
        run_qmp_session(q, proc)
    finally:
        if proc.poll() is None:
            proc.kill()
        out, err = proc.communicate(timeout=10)
        if err:
            sys.stdout.write("# stderr: %s\n" % err.decode(errors="replace").strip())


def run_qmp_session(q, proc):
    greet = q.recv()
    check("qmp/greeting/has-QMP-key-and-version",
          "QMP" in greet and greet["QMP"]["version"]["package"].startswith("tessera"),
          greet)

    r = q.cmd("query-status")
    check("qmp/negotiation/command-before-capabilities-is-refused",
          r.get("error", {}).get("class") == "CommandNotFound", r)

    r = q.cmd("qmp_capabilities")
    check("qmp/negotiation/capabilities-returns-empty-object", r == {"return": {}}, r)

    r = q.cmd("query-status")
    check("qmp/query-status/running-after-start",
          r.get("return", {}).get("status") == "running" and r["return"]["running"] is True, r)

    r = q.cmd("stop")
    ev = q.wait_event("STOP")
    check("qmp/stop/emits-STOP-event-with-timestamp",
          r == {"return": {}} and ev is not None and "seconds" in ev["timestamp"], (r, ev))
    r = q.cmd("query-status")
    check("qmp/stop/status-becomes-paused",
          r["return"]["status"] == "paused" and r["return"]["running"] is False, r)

    r = q.cmd("cont")
    ev = q.wait_event("RESUME")
    r2 = q.cmd("query-status")
    check("qmp/cont/resumes-and-emits-RESUME",
          ev is not None and r2["return"]["status"] == "running", (r, ev, r2))

    # QEMU's message: only a guest in S3 (run state "suspended") wakes up
    r = q.cmd("system_wakeup")
    check("qmp/system_wakeup/refused-when-not-suspended",
          "not in suspended state" in r.get("error", {}).get("desc", ""), r)
    r = q.cmd("human-monitor-command", {"command-line": "system_wakeup"})
    r2 = q.cmd("query-status")
    check("hmp/system_wakeup/refused-when-not-suspended-guest-still-running",
          "not in suspended state" in r.get("return", "") and
          r2["return"]["status"] == "running" and
          not any(e.get("event") == "WAKEUP" for e in q.events), (r, r2))

    r = q.cmd("human-monitor-command", {"command-line": "info qtree"})
    check("qmp/hmp/info-qtree-shows-main-system-bus",
          isinstance(r.get("return"), str) and "main-system-bus" in r["return"], r)

    r = q.cmd("human-monitor-command", {"command-line": "info status"})
    check("qmp/hmp/info-status-text", "VM status: running" in r.get("return", ""), r)

    r = q.cmd("no-such-command")
    check("qmp/errors/unknown-command-is-CommandNotFound",
          r.get("error", {}).get("class") == "CommandNotFound", r)

    r = q.cmd("human-monitor-command", {})
    check("qmp/errors/missing-argument-is-GenericError",
          r.get("error", {}).get("class") == "GenericError", r)

    r = q.cmd("query-status", id="abc-42")
    check("qmp/id/is-echoed", r.get("id") == "abc-42", r)

    # Two messages in one write, the second split over two writes.
    q.send_raw(b'{"execute": "query-status", "id": 1}{"execute": "query-st')
    time.sleep(0.1)
    q.send_raw(b'atus", "id": "x}{\\""}')
    a, b = q.reply(), q.reply()
    check("qmp/framing/several-per-read-and-split-messages",
          a.get("id") == 1 and b.get("id") == 'x}{"' and "return" in b, (a, b))

    r = q.cmd("query-plugins")
    names = [p.get("name") for p in r.get("return", [])]
    check("qmp/query-plugins/lists-none-plugin", "none" in names, r)

    # device_add/device_del: only types that declare hotplug (SCSI devices).
    r = q.cmd("device_add", {"driver": "edu", "id": "e0"})
    check("qmp/device_add/type-without-hotplug-is-refused",
          "does not support hotplugging" in r.get("error", {}).get("desc", ""), r)
    r = q.cmd("device_add", {"driver": "scsi-hd", "id": "h0", "drive": "nope"})
    check("qmp/device_add/scsi-hd-without-a-scsi-bus-or-drive-is-an-error",
          "error" in r and "h0" in r["error"].get("desc", ""), r)
    r = q.cmd("device_add", {"driver": "scsi-hd", "id": ["x"]})
    check("qmp/device_add/non-scalar-parameter-is-an-error", "error" in r, r)
    r = q.cmd("device_del", {"id": "nope"})
    check("qmp/device_del/unknown-id-is-DeviceNotFound-text",
          "Device 'nope' not found" in r.get("error", {}).get("desc", ""), r)

    # object-add / object-del: memory backends, as -object.
    r = q.cmd("object-add", {"qom-type": "memory-backend-ram", "id": "m1", "size": 1048576})
    check("qmp/object-add/memory-backend-ram-succeeds", r == {"return": {}}, r)
    r = q.cmd("object_add", {"qom-type": "memory-backend-ram", "id": "m1", "size": 1048576})
    check("qmp/object-add/duplicate-id-is-refused",
          "duplicate" in r.get("error", {}).get("desc", ""), r)
    r = q.cmd("object-add", {"qom-type": "rng-random", "id": "r0"})
    check("qmp/object-add/unknown-type-is-refused",
          "invalid object type" in r.get("error", {}).get("desc", ""), r)
    r = q.cmd("object-del", {"id": "m1"})
    check("qmp/object-del/unused-backend-succeeds", r == {"return": {}}, r)
    r = q.cmd("object-del", {"id": "m1"})
    check("qmp/object-del/unknown-id-is-refused",
          "object 'm1' not found" in r.get("error", {}).get("desc", ""), r)
    r = q.cmd("human-monitor-command",
              {"command-line": "object_add memory-backend-ram,id=h1,size=1M"})
    r2 = q.cmd("human-monitor-command", {"command-line": "object_del h1"})
    r3 = q.cmd("human-monitor-command", {"command-line": "object_del h1"})
    check("hmp/object_add-then-object_del-twice",
          r == {"return": ""} and r2 == {"return": ""} and "not found" in r3.get("return", ""),
          (r, r2, r3))

    r = q.cmd("query-commands")
    cmds = [c["name"] for c in r.get("return", [])]
    check("qmp/query-commands/lists-quit-and-query-status",
          "quit" in cmds and "query-status" in cmds, r)

    q2 = Qmp(q.sock.getpeername())
    g2 = q2.recv()
    r = q2.cmd("qmp_capabilities")
    q.cmd("stop")
    ev2 = q2.wait_event("STOP")
    check("qmp/clients/second-client-gets-events", "QMP" in g2 and ev2 is not None, ev2)
    q.cmd("cont")

    r = q.cmd("quit")
    check("qmp/quit/replies", r == {"return": {}}, r)
    try:
        rc = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        rc = None
    check("qmp/quit/process-exits-with-status-0", rc == 0, rc)


def start_qmp_vm(tmp, name):
    path = os.path.join(tmp, name)
    proc = subprocess.Popen(
        [TESSERA, "-M", "none", "-qmp", "unix:%s,server=on,wait=off" % path,
         "-display", "none"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return path, proc


def stop_qmp_vm(proc):
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=10)
    return proc.returncode


def qmp_limit_tests(tmp):
    """Hostile clients: one message nested 100,000 deep, one that writes
    thousands of commands and never reads."""
    path, proc = start_qmp_vm(tmp, "limits.sock")
    try:
        q = Qmp(path)
        q.recv()
        depth = 100000
        q.send_raw(b"[" * depth + b"]" * depth)
        r = q.reply()
        check("qmp/limits/deep-nesting-before-capabilities-is-one-error",
              r.get("error", {}).get("desc") == "JSON nesting depth limit exceeded", r)
        r = q.cmd("qmp_capabilities")
        r2 = q.cmd("query-status")
        check("qmp/limits/deep-nesting-leaves-the-monitor-serving",
              r == {"return": {}} and "return" in r2 and proc.poll() is None, (r, r2))
        q.send_raw(b'{"execute": "query-status", "arguments": {"a": '
                   + b"{" * 2000 + b"}" * 2000 + b'}}{"execute": "query-status", "id": 7}')
        a, b = q.reply(), q.reply()
        check("qmp/limits/deep-object-is-refused-and-the-next-message-runs",
              "nesting" in a.get("error", {}).get("desc", "") and b.get("id") == 7
              and "return" in b, (a, b))
        q.send_raw(b'{"execute": "query-status", "id": "' + b"x" * (5 << 20) + b'"}'
                   b'{"execute": "query-status", "id": 8}')
        a, b = q.reply(), q.reply()
        check("qmp/limits/message-over-4MiB-is-one-error-and-the-next-message-runs",
              a.get("error", {}).get("desc") == "JSON message size limit exceeded"
              and b.get("id") == 8 and "return" in b, (a, b))

        slow = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        slow.connect(path)
        slow.setblocking(False)
        n, sent, data = 20000, 0, b'{"execute": "query-status"}' * 20000
        deadline = time.time() + 5
        while sent < len(data) and time.time() < deadline:
            try:
                sent += slow.send(data[sent:])
            except BlockingIOError:
                break  # its replies back up: tessera stops reading it
        t0 = time.time()
        r = q.cmd("query-status")
        q.cmd("stop")
        ev = q.wait_event("STOP")
        q.cmd("cont")
        took = time.time() - t0
        check("qmp/slow-client/others-are-served-while-it-does-not-read",
              "return" in r and ev is not None and took < 2.0, (r, ev, took))
        buf = b""
        slow.setblocking(True)
        slow.settimeout(10)
        while sent < len(data):
            # Read its replies and send the rest as tessera drains.
            rd, wr, _ = select.select([slow], [slow], [], 10)
            if rd:
                buf += slow.recv(65536)
            if wr:
                slow.setblocking(False)
                try:
                    sent += slow.send(data[sent:])
                except BlockingIOError:
                    pass
                slow.setblocking(True)
            if not rd and not wr:
                break
        while buf.count(b"\n") < n + 1:
            chunk = slow.recv(65536)
            if not chunk:
                break
            buf += chunk
        got = buf.count(b"\n") - 1  # the greeting
        check("qmp/slow-client/gets-every-reply-once-it-reads", got == n, (got, n))
        slow.close()

        deaf = Qmp(path)
        deaf.negotiate()
        deaf.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        t0 = time.time()
        for i in range(8000):  # ~1.6 MB of STOP/RESUME events it never reads
            q.cmd("stop")
            q.cmd("cont")
        took = time.time() - t0
        deaf.sock.settimeout(10)
        gone = False
        try:
            while deaf.sock.recv(1 << 20):
                pass
            gone = True
        except OSError:
            pass
        check("qmp/slow-client/one-that-never-reads-events-is-dropped-others-go-on",
              gone and q.status() == "running", (gone, took))

        many = [socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(80)]
        for s in many:
            s.connect(path)
        r = q.cmd("query-status")
        for s in many:
            s.close()
        check("qmp/clients/eighty-connections-leave-the-monitor-serving", "return" in r, r)
    finally:
        stop_qmp_vm(proc)


def hmp_stdio_test():
    p = subprocess.run([TESSERA, "-M", "none", "-monitor", "stdio", "-display", "none"],
                       input=b"info status\nquit\n", capture_output=True, timeout=20)
    out = p.stdout.decode(errors="replace")
    check("hmp/stdio/info-status-prints-vm-status",
          "VM status: running" in out and "(tessera)" in out, out)
    check("hmp/stdio/quit-exits-0", p.returncode == 0, p.returncode)

    p = subprocess.run([TESSERA, "-M", "none", "-monitor", "stdio", "-S"],
                       input=b"info status\nfrobnicate\ncont\ninfo status\n",
                       capture_output=True, timeout=20)
    out = p.stdout.decode(errors="replace")
    check("hmp/stdio/-S-is-paused-then-cont-runs-and-eof-quits",
          "VM status: prelaunch" in out and "VM status: running" in out
          and "unknown command: 'frobnicate'" in out and p.returncode == 0, out)


def cli_tests():
    p = subprocess.run([TESSERA, "-foo"], capture_output=True, timeout=20)
    err = p.stderr.decode()
    check("cli/unknown-option-is-one-line-and-exit-1",
          p.returncode == 1 and err == "tessera: unknown option '-foo'\n", (p.returncode, err))
    p = subprocess.run([TESSERA, "--version"], capture_output=True, timeout=20)
    check("cli/version-line",
          p.stdout.decode() == "tessera version 0.1.0 (SDK ABI %s)\n" % abi_version(), p.stdout)
    p = subprocess.run([TESSERA, "-M", "no-such-machine"], capture_output=True, timeout=20)
    err = p.stderr.decode()
    check("cli/bad-machine-is-one-line-and-exit-1",
          p.returncode == 1 and err.startswith("tessera: ") and err.count("\n") == 1,
          (p.returncode, err))
    p = subprocess.run([TESSERA, "-m", "lots"], capture_output=True, timeout=20)
    check("cli/bad-size-is-rejected", p.returncode == 1 and "-m" in p.stderr.decode(),
          p.stderr)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for fn in (lambda: qmp_tests(tmp), lambda: qmp_limit_tests(tmp), hmp_stdio_test,
                   cli_tests):
            try:
                fn()
            except Exception as e:  # a crash of one group fails it, not the run
                check("exception-in-%s" % getattr(fn, "__name__", "group"), False, repr(e))
    return tap_report()

if __name__ == "__main__":
    sys.exit(main())
