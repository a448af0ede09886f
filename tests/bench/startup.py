#!/usr/bin/env python3
"""Start-up time to monitor-ready: from exec to the QMP greeting, with every
shipped plugin loaded. Prints the median of N runs, and QEMU's beside it
(qemu-system-x86_64 -M none) when installed.

    tests/bench/startup.py build/tessera [runs]
"""
import os, shutil, socket, statistics, subprocess, sys, tempfile, time


def time_to_greeting(argv, sock_path):
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        while True:
            if p.poll() is not None:
                raise RuntimeError(f"{argv[0]} exited with {p.returncode}")
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(sock_path)
                break
            except OSError:
                s.close()
                time.sleep(0.0005)
        buf = b""
        while b"\n" not in buf:
            buf += s.recv(4096)
        elapsed = time.monotonic() - t0
        s.sendall(b'{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n')
        # Read until the peer closes: QEMU drops commands of a client that
        # hangs up before their replies.
        s.settimeout(10)
        try:
            while s.recv(4096):
                pass
        except ConnectionResetError:
            pass
        s.close()
        p.wait(timeout=10)
        return elapsed
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def median_ms(argv_for, runs):
    d = tempfile.mkdtemp()
    times = []
    for i in range(runs):
        path = os.path.join(d, f"q{i}.sock")
        times.append(time_to_greeting(argv_for(path), path))
    shutil.rmtree(d)
    return statistics.median(times) * 1000


def main():
    tessera = sys.argv[1] if len(sys.argv) > 1 else "build/tessera"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 21
    plugins = subprocess.run([tessera, "-list-plugins"], capture_output=True,
                             text=True).stdout.strip().count("\n")
    t = median_ms(lambda p: [tessera, "-M", "none", "-display", "none",
                             "-qmp", f"unix:{p},server=on,wait=off"], runs)
    print(f"tessera: start-up to QMP greeting, {plugins} plugins loaded: "
          f"median {t:.1f} ms over {runs} runs")
    qemu = shutil.which("qemu-system-x86_64")
    if qemu:
        q = median_ms(lambda p: [qemu, "-M", "none", "-display", "none", "-nodefaults",
                                 "-qmp", f"unix:{p},server=on,wait=off"], runs)
        print(f"qemu-system-x86_64 -M none: median {q:.1f} ms; ratio tessera/qemu = {t / q:.2f}")
    else:
        print("qemu-system-x86_64 not installed: no QEMU figure")


if __name__ == "__main__":
    main()
