#!/usr/bin/env python3
"""qcow2 (and probing, snapshot=on) in the core's block layer, against
Debian's qemu-img / qemu-io. TAP output. Usage: test-qcow2.py BLKIO.

blkio (tests/block/blkio.c) opens an image through drive_add and does I/O
through drive_submit, as devices do; these tests check its images with
`qemu-img check` / `qemu-img compare` and read images qemu-img made.
"""
import hashlib
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

BLKIO = sys.argv[1]
TMP = tempfile.mkdtemp(prefix='tessera-qcow2-')
QEMU_IO = shutil.which('qemu-io')
tests = []


def test(fn):
    tests.append(fn)
    return fn


def run(*args, ok=True, env=None):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env)
    if ok and p.returncode != 0:
        raise AssertionError('%s failed (%d): %s%s' % (' '.join(map(str, args)), p.returncode,
                                                        p.stdout, p.stderr))
    return p


def blkio(opts, *cmds, ok=True):
    return run(BLKIO, opts, *cmds, ok=ok)


def path(name):
    return os.path.join(TMP, name)


def img(name, size='64M', fmt='qcow2', *opts):
    p = path(name)
    args = ['qemu-img', 'create', '-q', '-f', fmt]
    for o in opts:
        args += ['-o', o]
    run(*args, p, size)
    return p


def pattern(off, length, tag):
    """blkio's pattern: each sector holds (tag << 32 | sector) little-endian."""
    out = bytearray()
    for s in range(off // 512, (off + length) // 512):
        out += struct.pack('<Q', (tag << 32) | (s & 0xffffffff)) * 64
    return bytes(out)


class Model:
    """The expected content of a disk."""

    def __init__(self, size, base=None):
        self.data = bytearray(base if base is not None else bytes(size))

    def write(self, off, length, tag):
        self.data[off:off + length] = pattern(off, length, tag)

    def zero(self, off, length):
        self.data[off:off + length] = bytes(length)

    def save(self, name):
        p = path(name)
        with open(p, 'wb') as f:
            f.write(self.data)
        return p


def check_clean(p, leaks_ok=False):
    r = run('qemu-img', 'check', p, ok=False)
    if r.returncode == 0:
        return r.stdout
    if leaks_ok and r.returncode == 3 and 'ERROR' not in r.stdout:
        return r.stdout
    raise AssertionError('qemu-img check %s: rc %d\n%s%s' % (p, r.returncode, r.stdout, r.stderr))


def compare(p, model, fmt='qcow2'):
    raw = model.save(os.path.basename(p) + '.expected')
    r = run('qemu-img', 'compare', '-f', fmt, '-F', 'raw', p, raw, ok=False)
    assert r.returncode == 0, 'qemu-img compare: %s%s' % (r.stdout, r.stderr)


def mixed_writes(opts, size, model, seed=1):
    rnd = random.Random(seed)
    cmds = []
    for tag in range(1, 40):
        length = rnd.choice([512, 4096, 65536, 3 * 65536 + 512, 1 << 20])
        off = rnd.randrange(0, (size - length) // 512) * 512
        cmds.append('w:%d:%d:%d' % (off, length, tag))
        model.write(off, length, tag)
    cmds.append('f')
    blkio(opts, *cmds)


# ---- images tessera writes ----

@test
def writes_pass_check_and_compare():
    p = img('w.qcow2')
    m = Model(64 << 20)
    mixed_writes('file=' + p, 64 << 20, m)
    check_clean(p)
    compare(p, m)


@test
def writes_v2_small_clusters_refcount_widths():
    for i, o in enumerate(['compat=0.10', 'cluster_size=4k', 'cluster_size=2M',
                           'refcount_bits=1', 'refcount_bits=8', 'refcount_bits=64',
                           'cluster_size=512,refcount_bits=64']):
        p = img('rw%d.qcow2' % i, '16M', 'qcow2', o)
        m = Model(16 << 20)
        mixed_writes('file=%s,format=qcow2' % p, 16 << 20, m, seed=i)
        check_clean(p)
        compare(p, m)


@test
def refcount_table_grows():
    # 512-byte clusters, 64-bit refcounts: a block counts 64 clusters and the
    # one-cluster table 64 blocks (2 MiB): writing 8 MiB must grow it.
    p = img('grow.qcow2', '16M', 'qcow2', 'cluster_size=512,refcount_bits=64')
    m = Model(16 << 20)
    cmds = []
    for k in range(8):
        cmds.append('w:%d:%d:%d' % (k << 20, 1 << 20, k + 1))
        m.write(k << 20, 1 << 20, k + 1)
    blkio('file=' + p, *cmds)
    check_clean(p)
    compare(p, m)


@test
def write_zeroes_sets_zero_clusters():
    p = img('z.qcow2')
    m = Model(64 << 20)
    blkio('file=' + p, 'w:0:4M:1', 'z:64k:1M', 'Z:2M:128k', 'z:3M:1000k', 'f')
    m.write(0, 4 << 20, 1)
    m.zero(64 << 10, 1 << 20)
    m.zero(2 << 20, 128 << 10)
    m.zero(3 << 20, 1000 << 10)
    check_clean(p)
    compare(p, m)
    mp = run('qemu-img', 'map', '--output=json', p).stdout
    assert '"zero": true' in mp, mp


@test
def discard_frees_clusters():
    p = img('d.qcow2')
    blkio('file=' + p, 'w:0:8M:1', 'f')
    before = check_clean(p)
    blkio('file=' + p, 'd:0:6M', 'r:6M:2M:1')
    after = check_clean(p)
    m = Model(64 << 20)
    m.write(6 << 20, 2 << 20, 1)
    compare(p, m)
    alloc = lambda out: int(re.search(r'(\d+)/\d+ = [\d.]+% allocated', out).group(1))
    assert alloc(after) < alloc(before) - 90, (before, after)


@test
def freed_clusters_reused_by_the_next_session():
    p = img('reuse.qcow2')
    blkio('file=' + p, 'w:0:8M:1', 'f')
    size = os.path.getsize(p)
    blkio('file=' + p, 'd:0:4M')
    blkio('file=' + p, 'w:16M:4M:2', 'f')  # fills the holes the discard left
    assert os.path.getsize(p) <= size + (256 << 10), (size, os.path.getsize(p))
    m = Model(64 << 20)
    m.write(4 << 20, 4 << 20, 1)
    m.write(16 << 20, 4 << 20, 2)
    check_clean(p)
    compare(p, m)


@test
def discard_over_backing_reads_zeroes():
    base = img('db-base.qcow2', '8M')
    blkio('file=' + base, 'w:0:8M:7')
    top = path('db-top.qcow2')
    run('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', top)
    blkio('file=' + top, 'w:0:1M:8', 'd:0:2M', 'r:2M:6M:7')
    m = Model(8 << 20)
    m.write(0, 8 << 20, 7)
    m.zero(0, 2 << 20)
    check_clean(top)
    compare(top, m)


# ---- images qemu-img makes ----

def qio(p, *cmds, fmt='qcow2'):
    args = ['qemu-io', '-f', fmt]
    for c in cmds:
        args += ['-c', c]
    run(*args, p)


@test
def backing_chain_reads_and_cow():
    if not QEMU_IO:
        return 'skip no qemu-io'
    base = img('base.raw', '8M', 'raw')
    qio(base, 'write -P 0x11 0 8M', fmt='raw')
    mid = path('sub/mid.qcow2')
    os.makedirs(path('sub'), exist_ok=True)
    # relative backing name: resolved against the image's directory
    run('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', '../base.raw', '-F', 'raw', mid)
    qio(mid, 'write -P 0x22 1M 1M')
    top = path('sub/top.qcow2')
    run('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', 'mid.qcow2', '-F', 'qcow2', top)
    qio(top, 'write -P 0x33 1536k 64k')
    m = Model(8 << 20, b'\x11' * (8 << 20))
    m.data[1 << 20:2 << 20] = b'\x22' * (1 << 20)
    m.data[1536 << 10:1600 << 10] = b'\x33' * (64 << 10)
    blkio('file=' + top, 'dump:' + path('top.dump'))
    assert open(path('top.dump'), 'rb').read() == bytes(m.data)
    # partial-cluster writes copy the rest of the cluster from the chain
    blkio('file=' + top, 'w:4608:512:5', 'w:1050112:1024:6', 'f')
    m.write(4608, 512, 5)
    m.write(1050112, 1024, 6)
    check_clean(top)
    compare(top, m)
    assert open(base, 'rb').read() == b'\x11' * (8 << 20)


@test
def compressed_zlib_and_zstd_read():
    src = img('csrc.raw', '8M', 'raw')
    m = Model(8 << 20)
    blkio('file=%s,format=raw' % src, 'w:0:3M:1', 'w:5M:1M:2')
    m.write(0, 3 << 20, 1)
    m.write(5 << 20, 1 << 20, 2)
    for ctype in ['zlib', 'zstd']:
        c = path('c-%s.qcow2' % ctype)
        run('qemu-img', 'convert', '-c', '-f', 'raw', '-O', 'qcow2', '-o',
            'compression_type=' + ctype, src, c)
        info = run('qemu-img', 'info', c).stdout
        assert 'compression type: ' + ctype in info, info
        blkio('file=' + c, 'dump:' + path('c.dump'))
        assert open(path('c.dump'), 'rb').read() == bytes(m.data), ctype
        # a write into a compressed cluster copies its other part out first
        blkio('file=' + c, 'w:4096:4096:3', 'f')
        m2 = Model(0, m.data)
        m2.write(4096, 4096, 3)
        check_clean(c)
        compare(c, m2)


@test
def zero_clusters_from_qemu_io_read_zero():
    if not QEMU_IO:
        return 'skip no qemu-io'
    p = img('qz.qcow2', '8M')
    qio(p, 'write -P 0x55 0 4M', 'write -z 1M 1M', 'write -z -u 3M 512k')
    m = Model(8 << 20)
    m.data[0:4 << 20] = b'\x55' * (4 << 20)
    m.zero(1 << 20, 1 << 20)
    m.zero(3 << 20, 512 << 10)
    blkio('file=' + p, 'dump:' + path('qz.dump'))
    assert open(path('qz.dump'), 'rb').read() == bytes(m.data)
    blkio('file=' + p, 'w:1M:4k:9', 'f')  # allocating write into a zero cluster
    m.write(1 << 20, 4096, 9)
    check_clean(p)
    compare(p, m)


@test
def refcount_widths_and_cluster_sizes_read():
    if not QEMU_IO:
        return 'skip no qemu-io'
    for i, o in enumerate(['refcount_bits=1', 'refcount_bits=8', 'refcount_bits=64',
                           'cluster_size=4k', 'cluster_size=2M', 'compat=0.10']):
        p = img('q%d.qcow2' % i, '8M', 'qcow2', o)
        qio(p, 'write -P 0x%02x 12k 3M' % (i + 1))
        m = Model(8 << 20)
        m.data[12 << 10:(12 << 10) + (3 << 20)] = bytes([i + 1]) * (3 << 20)
        blkio('file=' + p, 'dump:' + path('q.dump'))
        assert open(path('q.dump'), 'rb').read() == bytes(m.data), o


# ---- options ----

@test
def snapshot_on_leaves_image_unchanged():
    p = img('snap.qcow2', '8M')
    blkio('file=' + p, 'w:0:1M:1', 'f')
    h = hashlib.sha256(open(p, 'rb').read()).hexdigest()
    blkio('file=%s,snapshot=on' % p, 'w:0:64k:2', 'w:4M:1M:3', 'r:0:64k:2', 'r:64k:960k:1',
          'r:4M:1M:3', 'f')
    assert hashlib.sha256(open(p, 'rb').read()).hexdigest() == h
    raw = img('snap.raw', '8M', 'raw')
    h = hashlib.sha256(open(raw, 'rb').read()).hexdigest()
    blkio('file=%s,format=raw,snapshot=on' % raw, 'w:0:1M:4', 'r:0:1M:4')
    assert hashlib.sha256(open(raw, 'rb').read()).hexdigest() == h
    left = [f for f in os.listdir(tempfile.gettempdir()) if f.startswith('tessera-snapshot-')]
    assert not left, left


@test
def probing_format_and_cache_modes():
    raw = img('probe.raw', '4M', 'raw')
    r = blkio('file=' + raw, 'w:4096:4096:1', 'r:4096:4096:1')
    assert 'probing guessed raw' in r.stderr, r.stderr
    assert blkio('file=%s,format=raw' % raw, 'size').stderr == ''
    # a probed raw image refuses a block-0 write that would make it qcow2
    r = blkio('file=' + raw, 'm:0', ok=False)
    assert r.returncode == 1 and 'not permitted' in r.stderr, r.stderr
    blkio('file=%s,format=raw' % raw, 'm:0')
    assert open(raw, 'rb').read(4) == b'QFI\xfb'
    blkio('file=%s,format=raw' % raw, 'w:0:512:1')
    r = blkio('file=%s,format=vmdk' % raw, ok=False)
    assert r.returncode == 1 and r.stderr.count('\n') == 1 and 'vmdk' in r.stderr, r.stderr
    r = blkio('file=%s,format=qcow2' % raw, ok=False)
    assert r.returncode == 1 and r.stderr.count('\n') == 1, r.stderr
    q = img('cache.qcow2', '8M')
    m = Model(8 << 20)
    for i, mode in enumerate(['writeback', 'none', 'unsafe', 'directsync', 'writethrough']):
        for aio in ['threads', 'io_uring', 'native']:
            tag = i * 3 + ['threads', 'io_uring', 'native'].index(aio) + 1
            off = tag * 65536 + 512
            blkio('file=%s,cache=%s,aio=%s' % (q, mode, aio), 'w:%d:8k:%d' % (off, tag),
                  'r:%d:8k:%d' % (off, tag), 'f')
            m.write(off, 8192, tag)
    check_clean(q)
    compare(q, m)
    r = blkio('file=%s,cache=bogus' % q, ok=False)
    assert r.returncode == 1 and 'cache' in r.stderr, r.stderr


@test
def readonly_refuses_writes_and_reads():
    p = img('ro.qcow2', '8M')
    blkio('file=' + p, 'w:0:64k:1')
    h = hashlib.sha256(open(p, 'rb').read()).hexdigest()
    r = blkio('file=%s,readonly=on' % p, 'r:0:64k:1', 'w:0:512:2', ok=False)
    assert r.returncode == 1 and 'Read-only' in r.stderr, r.stderr
    assert hashlib.sha256(open(p, 'rb').read()).hexdigest() == h


# ---- crashes ----

def kill_writer(opts, seconds):
    p = subprocess.Popen([BLKIO, opts, 'crash:%d:100000' % int(seconds * 1000)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The time runs from the writer's first completed flush, not from its
    # start: an ASan build on a loaded machine may take longer than the
    # whole interval just to open the image (the test then saw no flush).
    head = []
    while True:
        line = p.stdout.readline()
        head.append(line)
        if not line or line.startswith('F '):
            break
    time.sleep(seconds)
    p.send_signal(signal.SIGKILL)
    out, err = p.communicate()
    writes, durable = [], 0
    for line in (''.join(head) + out).splitlines():
        f = line.split()
        if f[0] == 'W' and len(f) == 4:
            writes.append(tuple(int(x) for x in f[1:]))
        elif f[0] == 'F' and len(f) == 2:
            durable = int(f[1])
    return writes, durable


def check_durable(p, size, writes, durable):
    """Every sector whose last write was flushed holds it (unflushed later
    writes to it may or may not be there). Writes of one round (8 tags) run
    concurrently: where they overlap, either may win."""
    raw = path('crash.dump')
    run('qemu-img', 'convert', '-O', 'raw', p, raw)
    data = open(raw, 'rb').read()
    last = {}
    maybe = set()
    for tag, off, length in writes:
        for s in range(off // 512, (off + length) // 512):
            if tag > durable:
                maybe.add(s)
            elif s in last and (last[s][0] - 1) // 8 == (tag - 1) // 8:
                last[s].append(tag)
            else:
                last[s] = [tag]
    for s, tags in last.items():
        if s in maybe:
            continue
        got = data[s * 512:s * 512 + 8]
        ok = [struct.pack('<Q', (t << 32) | s) for t in tags]
        assert got in ok, 'sector %d lost write %s: %r' % (s, tags, got)
    return len(last)


@test
def kill_9_mid_writes_leaves_clean_or_leaks_and_flushed_data():
    for i, (o, t) in enumerate([('', 0.6), ('cluster_size=4k', 0.9), ('refcount_bits=1', 0.4)]):
        p = img('crash%d.qcow2' % i, '256M', 'qcow2', *([o] if o else []))
        writes, durable = kill_writer('file=' + p, t)
        assert durable > 0, 'no flush completed'
        check_clean(p, leaks_ok=True)
        check_durable(p, 256 << 20, writes, durable)


@test
def lazy_refcounts_dirty_image_is_repaired_on_open():
    p = img('lazy.qcow2', '64M', 'qcow2', 'lazy_refcounts=on')
    writes, durable = kill_writer('file=' + p, 0.5)
    assert durable > 0
    with open(p, 'rb') as f:
        f.seek(72)
        dirty = struct.unpack('>Q', f.read(8))[0] & 1
    assert dirty, 'dirty bit not set by a lazy_refcounts writer'
    blkio('file=' + p, 'f')  # open repairs, close clears the bit
    check_clean(p)
    check_durable(p, 64 << 20, writes, durable)


@test
def concurrent_writes_ring_and_thread_pool():
    for i, env in enumerate([{}, {'TESSERA_NO_IO_URING': '1'}]):
        p = img('conc%d.qcow2' % i, '64M', 'qcow2', 'cluster_size=4k')
        r = run(BLKIO, 'file=' + p, 'crash:%d:40' % (i + 7), env=dict(os.environ, **env))
        writes = [tuple(int(x) for x in l.split()[1:]) for l in r.stdout.splitlines()
                  if l.startswith('W ')]
        assert len(writes) == 320, len(writes)
        check_clean(p)
        assert check_durable(p, 64 << 20, writes, 320) > 1000


# ---- bad images ----

def corrupt(name, patches, size='8M', extra=None, truncate=None):
    p = img(name, size)
    with open(p, 'r+b') as f:
        for off, data in patches:
            f.seek(off)
            f.write(data)
        if truncate is not None:
            f.truncate(truncate)
    return p


@test
def bad_images_one_error_line_never_a_crash():
    q = struct.pack
    bad = {
        'truncated': corrupt('b1.qcow2', [], truncate=50),
        'l1-beyond-eof': corrupt('b2.qcow2', [(40, q('>Q', 1 << 40))]),
        'absurd-size': corrupt('b3.qcow2', [(24, q('>Q', 1 << 63))]),
        'huge-l1': corrupt('b4.qcow2', [(36, q('>I', 0x7fffffff))]),
        'rt-outside': corrupt('b5.qcow2', [(48, q('>Q', 1 << 50))]),
        'cluster-bits': corrupt('b6.qcow2', [(20, q('>I', 40))]),
        'refcount-order': corrupt('b7.qcow2', [(96, q('>I', 9))]),
        'incompat': corrupt('b8.qcow2', [(72, q('>Q', 1 << 40))]),
        'encrypted': corrupt('b9.qcow2', [(32, q('>I', 1))]),
        'data-file': corrupt('b10.qcow2', [(72, q('>Q', 4))]),
        'version': corrupt('b11.qcow2', [(4, q('>I', 7))]),
    }
    # a backing loop: the image is its own backing file
    loop = img('loop.qcow2', '8M')
    run('qemu-img', 'rebase', '-u', '-f', 'qcow2', '-b', 'loop.qcow2', '-F', 'qcow2', loop)
    bad['loop'] = loop
    for what, p in bad.items():
        r = blkio('file=%s,format=qcow2' % p, 'r:0:4k:0', ok=False)
        assert r.returncode == 1, '%s: rc %d %s' % (what, r.returncode, r.stderr)
        lines = [l for l in r.stderr.splitlines() if l]
        assert len(lines) == 1 and p in lines[0], '%s: %r' % (what, r.stderr)


@test
def bad_tables_give_eio_not_a_crash():
    p = img('eio.qcow2', '8M')
    blkio('file=' + p, 'w:0:1M:1', 'f')
    with open(p, 'r+b') as f:
        f.seek(40)
        l1 = struct.unpack('>Q', f.read(8))[0]
        f.seek(l1)
        f.write(struct.pack('>Q', (1 << 63) | (1 << 45)))  # L2 table far beyond EOF
    r = blkio('file=' + p, 'r:0:4k:1', ok=False)
    assert r.returncode == 1 and 'Input/output error' in r.stderr, r.stderr
    with open(p, 'r+b') as f:
        f.seek(l1)
        f.write(struct.pack('>Q', (1 << 63) | 1000))  # misaligned
    r = blkio('file=' + p, 'w:0:4k:1', ok=False)
    assert r.returncode == 1 and 'Input/output error' in r.stderr, r.stderr


def main():
    print('1..%d' % len(tests))
    failed = 0
    for i, t in enumerate(tests, 1):
        try:
            res = t()
            skip = ' # SKIP ' + res[5:] if isinstance(res, str) and res.startswith('skip') else ''
            print('ok %d - %s%s' % (i, t.__name__, skip))
        except Exception as e:  # noqa: BLE001 (report every failure as TAP)
            failed += 1
            print('not ok %d - %s' % (i, t.__name__))
            for line in str(e).splitlines()[:30]:
                print('# ' + line)
        sys.stdout.flush()
    shutil.rmtree(TMP, ignore_errors=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
