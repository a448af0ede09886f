/*
 * gio: the guest side of tests/bench/storage-guest.py, a tiny static I/O
 * load generator for the Debian guests (whose initramfs has busybox only:
 * its dd does one synchronous request at a time and prints no rate).
 *
 *   gio NAME DEV randread|randwrite|seqread|seqwrite BS QD SECONDS SPAN_MIB
 *
 * Opens DEV with O_DIRECT (the guest's page cache must not hide the
 * device) and keeps QD requests of BS bytes in flight with Linux native
 * AIO (io_submit/io_getevents: truly asynchronous on a block device with
 * O_DIRECT), at random BS-aligned offsets in the first SPAN_MIB MiB or
 * sequentially through them (wrapping), until SECONDS of the guest's
 * CLOCK_MONOTONIC have passed. Prints
 *   GIO-START NAME
 *   GIO-END NAME ops=N bytes=B usecs=U errors=E
 * so the host can time the run from the console (an emulator's guest
 * clock need not follow the host's) and read the guest's own figure.
 *
 * No libc: compiled freestanding for aarch64 and x86_64 by clang
 * (--target=..., -ffreestanding -c) and linked -static by binutils' ld,
 * syscalls by hand, so no cross libc or guest library is needed. Exit status 0, or 1 with a "GIO-FAIL" line.
 */
#include <stddef.h>
#include <stdint.h>

#if defined(__aarch64__)
#define NR_IO_SETUP 0
#define NR_IO_SUBMIT 2
#define NR_IO_GETEVENTS 4
#define NR_OPENAT 56
#define NR_WRITE 64
#define NR_EXIT_GROUP 94
#define NR_CLOCK_GETTIME 113
#define O_DIRECT_ 0x10000
#elif defined(__x86_64__)
#define NR_IO_SETUP 206
#define NR_IO_SUBMIT 209
#define NR_IO_GETEVENTS 208
#define NR_OPENAT 257
#define NR_WRITE 1
#define NR_EXIT_GROUP 231
#define NR_CLOCK_GETTIME 228
#define O_DIRECT_ 0x4000
#else
#error "gio: aarch64 or x86_64 only"
#endif

#define AT_FDCWD_ (-100)
#define O_RDWR_ 2
#define MAX_QD 64
#define MAX_BYTES (8u << 20) /* QD * BS at most: 8 MiB of buffers */

struct iocb_ {
    uint64_t data;
    uint32_t key, rw_flags;
    uint16_t opcode;
    int16_t prio;
    uint32_t fd;
    uint64_t buf, nbytes;
    int64_t offset;
    uint64_t reserved2;
    uint32_t flags, resfd;
};

struct io_event_ {
    uint64_t data, obj;
    int64_t res, res2;
};

struct ts_ {
    int64_t sec, nsec;
};

static uint8_t bufs[MAX_BYTES] __attribute__((aligned(4096)));

/* The compiler may call these for loops and struct copies even freestanding. */
void *memset(void *d, int c, size_t n)
{
    volatile uint8_t *p = d;

    while (n--) {
        *p++ = (uint8_t)c;
    }
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    volatile uint8_t *p = d;
    const uint8_t *q = s;

    while (n--) {
        *p++ = *q++;
    }
    return d;
}

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
#if defined(__aarch64__)
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;

    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory");
    return x0;
#else
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;

    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8),
                     "r"(r9) : "rcx", "r11", "memory");
    return ret;
#endif
}

static int seq(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++, b++;
    }
    return *a == *b;
}

static uint64_t num(const char *s)
{
    uint64_t v = 0;

    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (uint64_t)(*s++ - '0');
    }
    return v;
}

/* Appends s (put) or the decimal v (putu) at p; returns the new end. */
static char *put(char *p, const char *s)
{
    while (*s) {
        *p++ = *s++;
    }
    return p;
}

static char *putu(char *p, uint64_t v)
{
    char tmp[24];
    int n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) {
        *p++ = tmp[--n];
    }
    return p;
}

static void say(const char *a, const char *b)
{
    char line[256], *p = put(put(put(line, a), b), "\n");

    sys6(NR_WRITE, 1, (long)line, p - line, 0, 0, 0);
}

static void fail(const char *why, const char *name)
{
    say("GIO-FAIL ", why);
    say("GIO-FAIL in ", name);
    sys6(NR_EXIT_GROUP, 1, 0, 0, 0, 0, 0);
}

static uint64_t usecs(void)
{
    struct ts_ t;

    sys6(NR_CLOCK_GETTIME, 1 /* CLOCK_MONOTONIC */, (long)&t, 0, 0, 0, 0);
    return (uint64_t)t.sec * 1000000u + (uint64_t)t.nsec / 1000u;
}

typedef struct job {
    const char *name;
    int fd;
    uint16_t op;
    int random;
    uint64_t bs, qd, nblocks, next, rng, ops, bytes, errors;
    struct iocb_ cb[MAX_QD];
} job;

static uint64_t next_offset(job *j)
{
    if (j->random) {
        /* xorshift64: the same sequence on every emulator. */
        j->rng ^= j->rng << 13;
        j->rng ^= j->rng >> 7;
        j->rng ^= j->rng << 17;
        return j->rng % j->nblocks * j->bs;
    }
    j->next = (j->next + 1) % j->nblocks;
    return j->next * j->bs;
}

static void prep(job *j, unsigned slot)
{
    struct iocb_ *c = &j->cb[slot];
    uint8_t *z = (uint8_t *)c;

    for (size_t i = 0; i < sizeof(*c); i++) {
        z[i] = 0;
    }
    c->data = slot;
    c->opcode = j->op;
    c->fd = (uint32_t)j->fd;
    c->buf = (uint64_t)(uintptr_t)(bufs + slot * j->bs);
    c->nbytes = j->bs;
    c->offset = (int64_t)next_offset(j);
}

static void submit(job *j, struct iocb_ **list, long n, uint64_t ctx)
{
    long r = sys6(NR_IO_SUBMIT, (long)ctx, n, (long)list, 0, 0, 0);

    if (r != n) {
        fail("io_submit", j->name);
    }
}

/* GIO-END NAME ops=N bytes=B usecs=U errors=E */
static void report(const job *j, uint64_t us)
{
    char line[256], *p = line;

    p = put(put(put(p, "GIO-END "), j->name), " ops=");
    p = put(putu(p, j->ops), " bytes=");
    p = put(putu(p, j->bytes), " usecs=");
    p = put(putu(p, us), " errors=");
    p = put(putu(p, j->errors), "\n");
    sys6(NR_WRITE, 1, (long)line, p - line, 0, 0, 0);
}

static void run(job *j, uint64_t secs)
{
    struct io_event_ ev[MAX_QD];
    struct iocb_ *list[MAX_QD];
    uint64_t ctx = 0, t0, deadline;
    unsigned inflight = j->qd;

    if (sys6(NR_IO_SETUP, (long)j->qd, (long)&ctx, 0, 0, 0, 0) != 0) {
        fail("io_setup", j->name);
    }
    for (unsigned s = 0; s < j->qd; s++) {
        prep(j, s);
        list[s] = &j->cb[s];
    }
    say("GIO-START ", j->name);
    t0 = usecs();
    deadline = t0 + secs * 1000000u;
    submit(j, list, (long)j->qd, ctx);
    while (inflight) {
        long n = sys6(NR_IO_GETEVENTS, (long)ctx, 1, MAX_QD, (long)ev, 0, 0);
        long again = 0;
        int more = usecs() < deadline;

        if (n < 0) {
            fail("io_getevents", j->name);
        }
        for (long i = 0; i < n; i++) {
            j->ops++;
            if (ev[i].res == (int64_t)j->bs) {
                j->bytes += j->bs;
            } else {
                j->errors++;
            }
            if (more) {
                prep(j, (unsigned)ev[i].data);
                list[again++] = &j->cb[ev[i].data];
            }
        }
        inflight -= (unsigned)(n - again);
        if (again) {
            submit(j, list, again, ctx);
        }
    }
    report(j, usecs() - t0);
}

static int gio_main(int argc, char **argv)
{
    static job j;
    const char *mode;

    if (argc != 8) {
        say("GIO-FAIL ", "usage: gio NAME DEV MODE BS QD SECONDS SPAN_MIB");
        return 2;
    }
    j.name = argv[1];
    mode = argv[3];
    j.bs = num(argv[4]);
    j.qd = num(argv[5]);
    j.random = seq(mode, "randread") || seq(mode, "randwrite");
    j.op = (seq(mode, "randwrite") || seq(mode, "seqwrite")) ? 1 : 0;
    j.rng = 88172645463325252ull;
    j.next = (uint64_t)-1;
    if (j.bs < 512 || j.bs % 512 || j.qd < 1 || j.qd > MAX_QD || j.qd * j.bs > MAX_BYTES ||
        (!j.random && !seq(mode, "seqread") && !seq(mode, "seqwrite"))) {
        fail("bad MODE, BS or QD", j.name);
    }
    j.nblocks = (num(argv[7]) << 20) / j.bs;
    if (j.nblocks == 0) {
        fail("SPAN_MIB smaller than BS", j.name);
    }
    for (uint64_t i = 0; i < j.qd * j.bs; i++) {
        bufs[i] = (uint8_t)(i * 7 + 1); /* what the writes write */
    }
    j.fd = (int)sys6(NR_OPENAT, AT_FDCWD_, (long)argv[2], O_RDWR_ | O_DIRECT_, 0, 0, 0);
    if (j.fd < 0) {
        fail("cannot open the device", argv[2]);
    }
    run(&j, num(argv[6]));
    return j.errors ? 1 : 0;
}

/* The kernel's initial stack: argc, then argv. */
__attribute__((used)) static void start_c(long *sp)
{
    sys6(NR_EXIT_GROUP, gio_main((int)sp[0], (char **)(sp + 1)), 0, 0, 0, 0, 0);
}

#if defined(__aarch64__)
__asm__(".text\n.global _start\n_start:\n mov x0, sp\n bl start_c\n");
#else
__asm__(".text\n.global _start\n_start:\n mov %rsp, %rdi\n and $-16, %rsp\n call start_c\n");
#endif
