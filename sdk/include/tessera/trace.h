/*
 * tessera SDK: trace events (ABI 1.7).
 *
 * A plugin declares its trace points once, as QEMU's trace-events files
 * do (a name, the arguments, a printf format), and calls trace_NAME(args)
 * where the event happens. Users switch them on with -trace PATTERN,
 * -trace events=FILE, QMP trace-event-set-state or HMP trace-event; an
 * enabled event prints one line, "NAME ARGS", on stderr or the -D file
 * (with "-msg timestamp=on": "PID@SEC.USEC:NAME ARGS", QEMU's log backend).
 *
 * Cost when off: trace_NAME() is a static inline that loads one byte (the
 * event's state, written by the core, read without a lock) and branches;
 * no argument is formatted and no call is made.
 *
 * How to declare them (one list per plugin, in a header of its own):
 *
 *   #define TES_TRACE_TABLE mydev_trace_events   // the array's name
 *   #define TES_TRACE_HOST H                      // the plugin's tes_host *
 *   #define MYDEV_TRACE(E) \
 *       E(mydev_mmio_read, (uint64_t addr, unsigned size, uint64_t val), \
 *         (addr, size, val), "addr 0x%" PRIx64 " size %u val 0x%" PRIx64) \
 *       E(mydev_reset, (void), (), "")
 *   TES_TRACE_DECLARE(MYDEV_TRACE)
 *
 * then, in exactly one .c file of the plugin, TES_TRACE_DEFINE(MYDEV_TRACE)
 * and in the plugin's init: TES_TRACE_REGISTER(host). The
 * compiler checks every format against its arguments (the format is a
 * literal at each call). Names follow QEMU's where QEMU has the event, so
 * people's -trace lines and greps carry over.
 */
#ifndef TESSERA_TRACE_H
#define TESSERA_TRACE_H

#include <inttypes.h>
#include <tessera/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One trace point. The plugin owns the storage (static, never freed: the
 * core keeps the pointer); the core writes state. */
typedef struct tes_trace_event {
    const char *name; /* [a-z0-9_]+, QEMU's name where QEMU has the event */
    const char *fmt;  /* printf format of the arguments (documentation) */
    uint8_t state;    /* nonzero while enabled; written by the core only */
    uint8_t reserved[7];
} tes_trace_event;

/* ---- the declaration macros (see the header comment) ---- */

#define TES_TRACE_IDX_(name, proto, args, fmt) TES_TRACE_IDX_##name,
#define TES_TRACE_ENTRY_(name, proto, args, fmt) {#name, fmt, 0, {0}},
#define TES_TRACE_ARGS_(...) __VA_OPT__(, ) __VA_ARGS__
#define TES_TRACE_FN_(evn, proto, args, fmt)                                                  \
    static inline void trace_##evn proto                                                      \
    {                                                                                          \
        tes_trace_event *ev_ = &TES_TRACE_TABLE[TES_TRACE_IDX_##evn];                         \
        if (__builtin_expect(__atomic_load_n(&ev_->state, __ATOMIC_RELAXED), 0)) {             \
            TES_TRACE_HOST->trace_emit(ev_, "%s " fmt, ev_->name TES_TRACE_ARGS_ args);        \
        }                                                                                      \
    }

/* The enum of indices, the array's declaration, and trace_NAME() for each. */
#define TES_TRACE_DECLARE(LIST)                                                                \
    enum { LIST(TES_TRACE_IDX_) TES_TRACE_COUNT_ };                                            \
    extern tes_trace_event TES_TRACE_TABLE[];                                                  \
    LIST(TES_TRACE_FN_)

/* The array itself (one .c file of the plugin). */
#define TES_TRACE_DEFINE(LIST) tes_trace_event TES_TRACE_TABLE[] = {LIST(TES_TRACE_ENTRY_)};

/* ---- the shared helper for register accesses ----
 *
 * Most devices trace their regions' reads and writes the same way: two
 * events (address, size, value) and a wrapper around the tes_mem_ops
 * callbacks. In the event list: TES_TRACE_RW(E, mydev_mmio_read,
 * mydev_mmio_write); next to the callbacks: TES_TRACE_RW_WRAP(mydev_mmio,
 * mmio_read, mmio_write, mydev_mmio_read, mydev_mmio_write), which defines
 * mydev_mmio_traced_read/_write for the ops table. */
#define TES_TRACE_RW(E, rd, wr)                                                                \
    E(rd, (uint64_t addr, unsigned size, uint64_t val), (addr, size, val),                     \
      "addr 0x%" PRIx64 " size %u val 0x%" PRIx64)                                             \
    E(wr, (uint64_t addr, unsigned size, uint64_t val), (addr, size, val),                     \
      "addr 0x%" PRIx64 " size %u val 0x%" PRIx64)
#define TES_TRACE_RW_WRAP(wrap, inner_rd, inner_wr, ev_rd, ev_wr)                              \
    static uint64_t wrap##_traced_read(void *opaque, uint64_t addr, unsigned size)            \
    {                                                                                          \
        uint64_t v_ = inner_rd(opaque, addr, size);                                            \
        trace_##ev_rd(addr, size, v_);                                                         \
        return v_;                                                                             \
    }                                                                                          \
    static void wrap##_traced_write(void *opaque, uint64_t addr, uint64_t val, unsigned size) \
    {                                                                                          \
        trace_##ev_wr(addr, size, val);                                                        \
        inner_wr(opaque, addr, val, size);                                                     \
    }

/* In the plugin's init: 0, or -errno as host->trace_register. A core older
 * than 1.7 has no trace_register: the events then stay off (state 0). */
#define TES_TRACE_REGISTER(host)                                                               \
    ((host)->size > offsetof(tes_host, trace_register)                                         \
         ? (host)->trace_register(TES_TRACE_TABLE, TES_TRACE_COUNT_, sizeof(tes_trace_event))  \
         : 0)

#ifdef __cplusplus
}
#endif
#endif
