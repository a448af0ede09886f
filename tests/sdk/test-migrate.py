#!/usr/bin/env python3
"""Migration between two real tessera processes, driven over QMP.

usage: test-migrate.py PATH-TO-TESSERA     (TAP on stdout)

A source with an edu device migrates to file: and tcp:; destinations
started with -incoming and the same devices must reach "running" (or stay
"paused" with -S, or when the source was stopped); a destination with another device set must exit 1 with
one clear line.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

TESSERA = sys.argv[1] if len(sys.argv) > 1 else "tessera"
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tesstest import Qmp, check, tap_report  # noqa: E402


class NegotiatedQmp(Qmp):
    def __init__(self, path, timeout=15.0):
        super().__init__(path, timeout)
        self.negotiate()


class Vm:
    def __init__(self, tmp, name, extra, env=None):
        self.qmp_path = os.path.join(tmp, name + ".qmp")
        self.proc = subprocess.Popen(
            [TESSERA, "-M", "none", "-m", "64M", "-display", "none",
             "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path] + extra,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=dict(os.environ, **(env or {})))
        self.qmp = None

    def connect(self):
        self.qmp = NegotiatedQmp(self.qmp_path)
        return self.qmp

    def finish(self, timeout=10):
        """Exit status and stderr; kills the process if it is still up."""
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return self.proc.returncode, err.decode(errors="replace")

    def quit(self):
        if self.proc.poll() is None and self.qmp:
            try:
                self.qmp.cmd("quit")
            except (OSError, EOFError):
                pass
        return self.finish()


def wait_migration(q, timeout=15):
    """query-migrate once the migration (a thread, as in QEMU) has ended."""
    deadline = time.time() + timeout
    while True:
        r = q.cmd("query-migrate")
        st = r.get("return", {}).get("status")
        if st not in ("setup", "active", "cancelling") or time.time() > deadline:
            return r
        time.sleep(0.05)


def wait_completed(q, timeout=15):
    """Until the destination's query-migrate says completed (or timeout)."""
    deadline = time.time() + timeout
    while time.time() < deadline and \
            q.cmd("query-migrate").get("return", {}).get("status") != "completed":
        time.sleep(0.05)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


DEVICES = ["-device", "edu,id=e0"]


def test_file(tmp):
    stream = os.path.join(tmp, "mig.bin")
    a = Vm(tmp, "a", DEVICES)
    try:
        q = a.connect()
        r = q.cmd("migrate", {"uri": "file:" + stream})
        check("migrate/file/migrate-returns-success", r.get("return") == {}, r)
        r = wait_migration(q)
        check("migrate/file/query-migrate-completed",
              r.get("return", {}).get("status") == "completed", r)
        check("migrate/file/source-stays-postmigrate", q.status() == "postmigrate")
        check("migrate/file/stream-starts-with-magic",
              os.path.exists(stream) and open(stream, "rb").read(8) == b"TESMIG\r\n")
    finally:
        a.quit()

    b = Vm(tmp, "b", DEVICES + ["-incoming", "file:" + stream])
    try:
        st = b.connect().wait_status("running")
        check("migrate/file/destination-reaches-running", st == "running", st)
        r = b.qmp.cmd("query-migrate")
        check("migrate/file/destination-query-migrate-completed",
              r.get("return", {}).get("status") == "completed", r)
    finally:
        b.quit()

    s = Vm(tmp, "s", DEVICES + ["-S", "-incoming", "file:" + stream])
    try:
        q = s.connect()
        wait_completed(q)
        st = q.status()
        check("migrate/file/with-S-destination-stays-paused", st == "paused", st)
    finally:
        s.quit()
    return stream


def test_stopped_source_stays_paused(tmp):
    """As QEMU: a guest stopped before the migration is paused on the
    destination (no -S needed) until cont; a running one runs."""
    stream = os.path.join(tmp, "stopped.bin")
    a = Vm(tmp, "stopped-src", DEVICES)
    try:
        q = a.connect()
        q.cmd("stop")
        q.cmd("migrate", {"uri": "exec:cat > " + stream})
        r = wait_migration(q)
        check("migrate/stopped-source/migration-completes",
              r.get("return", {}).get("status") == "completed", r)
    finally:
        a.quit()
    b = Vm(tmp, "stopped-dst", DEVICES + ["-incoming", "exec:cat " + stream])
    try:
        q = b.connect()
        wait_completed(q)
        time.sleep(0.3)  # a wrong autostart would have happened by now
        st = q.status()
        check("migrate/stopped-source/destination-stays-paused", st == "paused", st)
        r = q.cmd("cont")
        st = q.wait_status("running")
        check("migrate/stopped-source/cont-runs-it", r.get("return") == {} and
              st == "running", (r, st))
    finally:
        b.quit()


def test_mismatch(tmp, stream):
    c = Vm(tmp, "c", ["-device", "edu,id=other", "-incoming", "file:" + stream])
    code, err = c.finish(timeout=20)
    lines = [l for l in err.splitlines() if "incoming migration failed" in l]
    check("migrate/mismatch/destination-exits-1", code == 1, (code, err))
    check("migrate/mismatch/one-clear-line-names-the-device",
          len(lines) == 1 and lines[0].startswith("tessera: incoming migration failed: ")
          and ("'e0'" in lines[0] or "'other'" in lines[0]), err)


def test_tcp(tmp):
    port = free_port()
    uri = "tcp:127.0.0.1:%d" % port
    d = Vm(tmp, "d", DEVICES + ["-incoming", uri])
    a = Vm(tmp, "a2", DEVICES)
    try:
        qd = d.connect()
        check("migrate/tcp/destination-waits-inmigrate", qd.status() == "inmigrate")
        qa = a.connect()
        r = qa.cmd("migrate", {"uri": uri})
        check("migrate/tcp/migrate-returns-success", r.get("return") == {}, r)
        wait_migration(qa)
        check("migrate/tcp/source-postmigrate", qa.status() == "postmigrate")
        st = qd.wait_status("running")
        check("migrate/tcp/destination-reaches-running", st == "running", st)
    finally:
        a.quit()
        d.quit()


def timed(fn):
    t0 = time.time()
    r = fn()
    return r, time.time() - t0


def test_incoming_exec_does_not_block(tmp):
    d = Vm(tmp, "slowin", DEVICES + ["-incoming", "exec:sleep 20"])
    try:
        q = d.connect()
        st, took = timed(q.status)
        check("migrate/incoming-exec-slow/monitor-answers-while-waiting",
              st == "inmigrate" and took < 1.0, (st, took))
        t0 = time.time()
        d.proc.terminate()
        code, err = d.finish(timeout=10)
        took = time.time() - t0
        check("migrate/incoming-exec-slow/sigterm-exits-at-once",
              code == 0 and took < 3.0, (code, took, err))
    finally:
        d.finish(timeout=1)


def test_incoming_tcp_stalled_peer_times_out(tmp, stream):
    port = free_port()
    uri = "tcp:127.0.0.1:%d" % port
    d = Vm(tmp, "stall", DEVICES + ["-incoming", uri], env={"TESSERA_MIGRATE_TIMEOUT": "1"})
    peer = None
    try:
        q = d.connect()
        peer = socket.create_connection(("127.0.0.1", port), timeout=5)
        peer.sendall(open(stream, "rb").read()[:100])  # then nothing
        st, took = timed(q.status)
        check("migrate/incoming-tcp-stalled/monitor-answers-meanwhile",
              st == "inmigrate" and took < 1.0, (st, took))
        code, err = d.finish(timeout=10)
        lines = [l for l in err.splitlines() if "incoming migration failed" in l]
        check("migrate/incoming-tcp-stalled/peer-that-stops-fails-with-one-line",
              code == 1 and len(lines) == 1 and "no progress" in lines[0], (code, err))
    finally:
        if peer:
            peer.close()
        d.finish(timeout=1)


def test_outgoing_slow_exec_and_cancel(tmp):
    a = Vm(tmp, "slowout", DEVICES)
    try:
        q = a.connect()
        r = q.cmd("migrate", {"uri": "exec:sleep 30"})
        st, took = timed(q.status)
        mig = q.cmd("query-migrate")
        check("migrate/outgoing-slow-exec/monitor-answers-while-migrating",
              "return" in r and st in ("running", "paused") and took < 1.0
              and mig["return"]["status"] in ("setup", "active"), (r, st, took, mig))
        r = q.cmd("cont")
        check("migrate/outgoing-slow-exec/cont-refused-while-migrating", "error" in r, r)
        r = q.cmd("migrate_cancel")
        mig = wait_migration(q, timeout=5)
        check("migrate/cancel/query-migrate-shows-cancelled",
              r == {"return": {}} and mig["return"]["status"] == "cancelled", (r, mig))
        check("migrate/cancel/guest-resumes-on-the-source", q.status() == "running")
        r = q.cmd("migrate", {"uri": "file:" + os.path.join(tmp, "again.bin")})
        mig = wait_migration(q)
        check("migrate/cancel/a-later-migration-completes",
              mig["return"]["status"] == "completed", mig)
    finally:
        a.quit()


def test_migrate_incoming_needs_defer(tmp, stream):
    a = Vm(tmp, "running", DEVICES)
    try:
        q = a.connect()
        r = q.cmd("migrate-incoming", {"uri": "file:" + stream})
        check("migrate/incoming-qmp/refused-on-a-running-vm",
              "defer" in r.get("error", {}).get("desc", "") and q.status() == "running",
              r)
    finally:
        a.quit()
    d = Vm(tmp, "deferred", DEVICES + ["-incoming", "defer"])
    try:
        q = d.connect()
        st0 = q.status()
        r = q.cmd("migrate-incoming", {"uri": "file:" + stream})
        st = q.wait_status("running")
        r2 = q.cmd("migrate-incoming", {"uri": "file:" + stream})
        check("migrate/incoming-qmp/defer-waits-then-loads-once",
              st0 == "inmigrate" and r == {"return": {}} and st == "running"
              and "error" in r2, (st0, r, st, r2))
    finally:
        d.quit()


def main():
    with tempfile.TemporaryDirectory(prefix="tessera-migrate-") as tmp:
        try:
            stream = test_file(tmp)
            test_mismatch(tmp, stream)
            test_stopped_source_stays_paused(tmp)
            test_tcp(tmp)
            test_incoming_exec_does_not_block(tmp)
            test_incoming_tcp_stalled_peer_times_out(tmp, stream)
            test_outgoing_slow_exec_and_cancel(tmp)
            test_migrate_incoming_needs_defer(tmp, stream)
        except Exception as e:  # a crash of a VM is a failure, not a traceback
            check("migrate/no-exception", False, repr(e))
    return tap_report()

if __name__ == "__main__":
    sys.exit(main())
