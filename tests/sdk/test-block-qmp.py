#!/usr/bin/env python3
"""-blockdev and the block monitor commands of the real binary over a real
QMP socket (issue 13): blockdev-add, blockdev-del, query-block,
query-blockstats, HMP info block. No guest: -M none, stopped (-S).

usage: test-block-qmp.py PATH-TO-TESSERA     (TAP on stdout)
"""
import os
import subprocess
import sys
import tempfile

TESSERA = sys.argv[1] if len(sys.argv) > 1 else "tessera"
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tesstest import Qmp, check, tap_report  # noqa: E402

MiB = 1 << 20


def entry(lst, key, name):
    for e in lst:
        node = e.get("inserted", e).get("node-name")
        if (key == "node-name" and node == name) or e.get(key) == name:
            return e
    return None


def session(q, img, img2):
    q.negotiate()
    names = [c["name"] for c in q.cmd("query-commands")["return"]]
    check("commands: blockdev-add/-del, query-block, query-blockstats are listed",
          all(n in names for n in ("blockdev-add", "blockdev-del", "query-block",
                                   "query-blockstats")), names)

    r = q.cmd("query-block")["return"]
    n0 = entry(r, "node-name", "n0")
    ins = (n0 or {}).get("inserted", {})
    check("query-block: the -blockdev node n0 (file=f0) is there, held by the nvme",
          n0 is not None and n0["device"] == "" and n0.get("qdev") == "nvme0" and
          ins.get("file") == img and ins.get("ro") is False and ins.get("drv") == "raw" and
          ins.get("image", {}).get("virtual-size") == 2 * MiB, r)
    d0 = entry(r, "device", "d0")
    check("query-block: the -drive d0 is named by its id, read-only, 1 MiB",
          d0 is not None and d0["inserted"]["ro"] is True and
          d0["inserted"]["image"]["virtual-size"] == MiB and "qdev" not in d0, r)
    check("query-block: f0 is part of n0, not a drive of its own",
          entry(r, "node-name", "f0") is None, r)

    r = q.cmd("blockdev-add", {"driver": "raw", "node-name": "n5", "read-only": True,
                               "file": {"driver": "file", "filename": img2}})
    check("blockdev-add: JSON raw over an inline file node returns {}", r == {"return": {}}, r)
    n5 = entry(q.cmd("query-block")["return"], "node-name", "n5")
    check("blockdev-add: query-block shows the new node read-only with its size",
          n5 is not None and n5["inserted"]["ro"] is True and
          n5["inserted"]["file"] == img2 and n5["inserted"]["image"]["virtual-size"] == MiB,
          n5)
    r = q.cmd("blockdev-add", {"driver": "file", "node-name": "n5", "filename": img2})
    check("blockdev-add: a taken node-name is refused",
          r.get("error", {}).get("desc") == "Duplicate nodes with node-name='n5'", r)
    r = q.cmd("blockdev-add", {"driver": "file", "filename": img2})
    check("blockdev-add: no node-name is refused",
          "node-name" in r.get("error", {}).get("desc", ""), r)
    r = q.cmd("blockdev-add", {"driver": "file", "node-name": "m", "filename": "/nonexistent/x"})
    check("blockdev-add: a missing file is refused naming it",
          "/nonexistent/x" in r.get("error", {}).get("desc", ""), r)

    r = q.cmd("blockdev-del", {"node-name": "n0"})
    check("blockdev-del: refused while a device uses the node",
          r.get("error", {}).get("desc") == "Node 'n0' is in use by device 'nvme0'", r)
    r = q.cmd("blockdev-del", {"node-name": "d0"})
    check("blockdev-del: a -drive is not the monitor's",
          r.get("error", {}).get("desc") == "Node d0 is not owned by the monitor", r)
    r = q.cmd("blockdev-del", {"node-name": "n5"})
    gone = entry(q.cmd("query-block")["return"], "node-name", "n5") is None
    check("blockdev-del: an unused node goes away", r == {"return": {}} and gone, r)

    r = q.cmd("query-blockstats")["return"]
    st = (entry(r, "node-name", "n0") or {}).get("stats", {})
    keys = ("rd_bytes", "wr_bytes", "rd_operations", "wr_operations", "flush_operations",
            "failed_rd_operations", "failed_wr_operations", "failed_flush_operations")
    check("query-blockstats: every drive, counters at zero before any I/O",
          len(r) == 2 and all(st.get(k) == 0 for k in keys), r)

    out = q.cmd("human-monitor-command", {"command-line": "info block"})["return"]
    check("info block: node, path, format and the device holding it",
          ("n0: %s (raw)" % img) in out and "Attached to:      nvme0" in out and
          ("d0: %s (raw, read-only)" % img2) in out, out)
    out = q.cmd("human-monitor-command", {"command-line": "info blockstats"})["return"]
    check("info blockstats: a line per drive with QEMU's counter names",
          "n0: rd_bytes=0 wr_bytes=0 rd_operations=0 wr_operations=0 flush_operations=0" in out
          and out.count("\n") == 2, out)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        img, img2 = os.path.join(tmp, "a.img"), os.path.join(tmp, "b.img")
        with open(img, "wb") as f:
            f.truncate(2 * MiB)
        with open(img2, "wb") as f:
            f.truncate(MiB)
        sock = os.path.join(tmp, "qmp.sock")
        proc = subprocess.Popen(
            [TESSERA, "-M", "none", "-S", "-display", "none",
             "-qmp", "unix:%s,server=on,wait=off" % sock,
             "-blockdev", "driver=file,node-name=f0,filename=" + img,
             "-blockdev", "driver=raw,node-name=n0,file=f0",
             "-device", "nvme,id=nvme0,drive=n0,serial=x",
             "-drive", "file=%s,if=none,id=d0,format=raw,readonly=on" % img2],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            session(Qmp(sock), img, img2)
        finally:
            if proc.poll() is None:
                proc.kill()
            _, err = proc.communicate(timeout=10)
            if err:
                sys.stdout.write("# stderr: %s\n" % err.decode(errors="replace").strip())
    return tap_report()


if __name__ == "__main__":
    sys.exit(main())
