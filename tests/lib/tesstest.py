"""Shared pieces of tessera's Python tests: a QMP client over a unix
socket and TAP result collection."""
import json
import socket
import time

results = []


def check(name, cond, detail=""):
    """Record one TAP result; detail is printed under a failure."""
    results.append((name, bool(cond), detail))


def tap_report():
    """Print the TAP plan and results; returns the exit status."""
    print("TAP version 13")
    print("1..%d" % len(results))
    for i, (name, ok, detail) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
        if not ok:
            for line in str(detail).splitlines() or [""]:
                print("#   %s" % line)
    return 0 if all(ok for _, ok, _ in results) else 1


class Qmp:
    """A QMP client. Connects (retrying until timeout); does not read the
    greeting or negotiate unless negotiate() is called."""

    def __init__(self, path, timeout=10.0):
        deadline = time.time() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.events = []

    def negotiate(self):
        """Read the greeting and enter command mode; returns the greeting."""
        greeting = self.recv()
        self.cmd("qmp_capabilities")
        return greeting

    def recv(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(4096)
            if not data:
                raise EOFError("QMP connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def send_raw(self, data):
        self.sock.sendall(data)

    def reply(self):
        """Next return/error; events seen on the way are kept."""
        while True:
            msg = self.recv()
            if "event" in msg:
                self.events.append(msg)
            else:
                return msg

    def cmd(self, name, args=None, **extra):
        req = {"execute": name}
        if args is not None:
            req["arguments"] = args
        req.update(extra)
        self.send_raw(json.dumps(req).encode())
        return self.reply()

    def wait_event(self, name, timeout=5.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for e in self.events:
                if e["event"] == name:
                    self.events.remove(e)
                    return e
            self.events.append(self.recv())
        return None

    def seen_event(self, name, timeout, pred=lambda data: True):
        """True once an event name whose data pred accepts has come (within
        timeout seconds); unlike wait_event, the events stay in self.events."""
        def seen():
            return any(e.get("event") == name and pred(e.get("data", {})) for e in self.events)

        deadline = time.time() + timeout
        old = self.sock.gettimeout()
        while time.time() < deadline:
            if seen():
                return True
            self.sock.settimeout(max(0.1, deadline - time.time()))
            try:
                self.events.append(self.recv())
            except (OSError, ValueError):
                break
            finally:
                self.sock.settimeout(old)
        return seen()

    def status(self):
        return self.cmd("query-status").get("return", {}).get("status")

    def wait_status(self, want, timeout=15.0):
        deadline = time.time() + timeout
        st = None
        while time.time() < deadline:
            st = self.status()
            if st == want:
                return st
            time.sleep(0.05)
        return st
