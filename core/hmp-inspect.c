/*
 * tessera core: HMP inspection commands, QEMU's syntax and layouts.
 *
 *   x /FMT ADDR        guest virtual memory as the first vCPU sees it
 *   xp /FMT ADDR       guest physical memory
 *                      FMT = [count][format][size]: format x (hex), d, u,
 *                      o, c (chars), i (instructions, hmp-disas.c); size
 *                      b, h, w (default), g
 *   trace-event NAME on|off
 *   info trace-events [PATTERN]
 *   info registers     each vCPU, in the CPU's own (QEMU-like) layout
 *   info tlb, info mem the page tables of the first vCPU (x86; QEMU has
 *                      neither for Arm)
 *   info lapic [ID]    the local APIC of the vCPU with APIC ID ID, else of the
 *                      first vCPU (x86)
 *   info irq           raised counts of each interrupt controller's lines
 *   info pic           each interrupt controller's state, in its own layout
 *   info mtree -f      the flat view: the leaf behind each address range
 *
 * Reading memory through xp/x reads MMIO registers too, as QEMU does.
 */
#include <errno.h>
#include <string.h>

#include "core.h"
#include "monitor.h"
#include "tracing.h"

/* ---- trace events ---- */

static bool cmd_trace_event(const char *arg, GString *out)
{
    char **w = g_strsplit_set(arg ? arg : "", " \t", -1);
    bool ok = g_strv_length(w) == 2 && (!strcmp(w[1], "on") || !strcmp(w[1], "off"));

    if (!ok) {
        g_string_append(out, "usage: trace-event name on|off\n");
    } else if (!strpbrk(w[0], "*?") && !trace_exists(w[0])) {
        g_string_append_printf(out, "Error: unknown event \"%s\"\n", w[0]);
        ok = false;
    } else {
        trace_set_pattern(w[0], strcmp(w[1], "on") == 0);
    }
    g_strfreev(w);
    return ok;
}

typedef struct list_ctx {
    const char *glob;
    GString *out;
} list_ctx;

static void list_event(const char *name, bool enabled, void *opaque)
{
    list_ctx *c = opaque;

    if (!c->glob || core_glob_match(c->glob, name)) {
        g_string_append_printf(c->out, "%s : state %u\n", name, enabled ? 1 : 0);
    }
}

static bool info_trace_events(const char *arg, GString *out)
{
    list_ctx c = {.glob = arg && *arg ? arg : NULL, .out = out};

    trace_foreach(list_event, &c);
    return true;
}

/* ---- x / xp ---- */

typedef struct dump_fmt {
    unsigned count, size;
    char format;
} dump_fmt;

static bool parse_fmt(const char *s, dump_fmt *f, GString *out)
{
    *f = (dump_fmt){.count = 1, .size = 0, .format = 'x'};
    if (g_ascii_isdigit(*s)) {
        f->count = (unsigned)strtoul(s, (char **)&s, 10);
    }
    for (; *s; s++) {
        if (strchr("xduoci", *s)) {
            f->format = *s;
        } else if (strchr("bhwg", *s)) {
            f->size = *s == 'b' ? 1 : *s == 'h' ? 2 : *s == 'w' ? 4 : 8;
        } else {
            char c[2] = {*s, 0};
            g_autofree char *shown = core_printable(c);

            g_string_append_printf(out, "invalid char in format: '%s'\n", shown);
            return false;
        }
    }
    if (!f->size) {
        f->size = f->format == 'c' ? 1 : 4;
    }
    if (f->count == 0 || f->count > 65536) {
        g_string_append(out, "count must be 1..65536\n");
        return false;
    }
    return true;
}

static void print_value(GString *out, const dump_fmt *f, uint64_t v)
{
    int bits = f->size * 8;

    switch (f->format) {
    case 'x':
        g_string_append_printf(out, " 0x%0*" PRIx64, (bits + 3) / 4, v);
        break;
    case 'o':
        g_string_append_printf(out, " %#*" PRIo64, (bits + 2) / 3, v);
        break;
    case 'u':
        g_string_append_printf(out, " %*" PRIu64, (bits * 10 + 32) / 33, v);
        break;
    case 'd':
        if (bits < 64 && (v >> (bits - 1)) & 1) {
            v |= ~0ull << bits; /* sign-extend */
        }
        g_string_append_printf(out, " %*" PRId64, (bits * 10 + 32) / 33, (int64_t)v);
        break;
    case 'c':
        if (v >= 32 && v < 127) {
            g_string_append_printf(out, " '%c'", (char)v);
        } else {
            g_string_append_printf(out, " '\\x%02x'", (unsigned)v);
        }
        break;
    }
}

/* Guest physical address of vaddr (or vaddr itself for xp). */
static bool to_phys(bool virt, uint64_t vaddr, uint64_t *paddr)
{
    tes_cpu *cpu = cpu_by_index(0);
    const tes_cpu_ops *ops = cpu ? cpu->ops : NULL;

    if (!virt) {
        *paddr = vaddr;
        return true;
    }
    if (!ops || ops->size < offsetof(tes_cpu_ops, translate) + sizeof(ops->translate) ||
        !ops->translate) {
        return false;
    }
    return ops->translate(cpu, cpu_state(cpu), vaddr, false, paddr);
}

bool hmp_read_value(bool virt, uint64_t addr, unsigned size, uint64_t *v)
{
    uint8_t buf[8] = {0};
    uint64_t pa;

    /* An item never crosses a page in practice (aligned sizes). */
    if (!to_phys(virt, addr, &pa)) {
        return false;
    }
    as_read(memory_system(), pa, buf, size);
    *v = 0;
    for (int i = size - 1; i >= 0; i--) {
        *v = (*v << 8) | buf[i]; /* both targets are little endian */
    }
    return true;
}

static void memory_dump(GString *out, const dump_fmt *f, uint64_t addr, bool virt)
{
    unsigned line = f->size == 1 ? 8 : 16;
    uint64_t len = (uint64_t)f->count * f->size;

    for (uint64_t done = 0; done < len; done += line) {
        g_string_append_printf(out, "%016" PRIx64 ":", addr + done);
        for (uint64_t i = 0; i < line && done + i < len; i += f->size) {
            uint64_t v;

            if (!hmp_read_value(virt, addr + done + i, f->size, &v)) {
                g_string_append_printf(out, " Cannot access memory\n");
                return;
            }
            print_value(out, f, v);
        }
        g_string_append_c(out, '\n');
    }
}

static bool cmd_x_common(const char *arg, GString *out, bool virt)
{
    char **w = g_strsplit_set(arg ? arg : "", " \t", -1);
    const char *fmt = "", *addr_s = NULL;
    dump_fmt f;
    char *end;
    uint64_t addr;
    bool ok = false;

    for (char **p = w; *p; p++) {
        if (**p == '/' && !*fmt) {
            fmt = *p + 1;
        } else if (**p && !addr_s) {
            addr_s = *p;
        }
    }
    if (!addr_s) {
        g_string_append_printf(out, "usage: %s /fmt addr\n", virt ? "x" : "xp");
    } else if (parse_fmt(fmt, &f, out)) {
        addr = g_ascii_strtoull(addr_s, &end, 0);
        if (*end) {
            g_string_append_printf(out, "invalid address '%s'\n", addr_s);
        } else if (virt && !cpu_by_index(0)) {
            g_string_append(out, "no CPU\n");
        } else if (f.format == 'i') {
            ok = hmp_disas(out, addr, f.count, virt);
        } else {
            memory_dump(out, &f, addr, virt);
            ok = true;
        }
    }
    g_strfreev(w);
    return ok;
}

static bool cmd_x(const char *arg, GString *out)
{
    return cmd_x_common(arg, out, true);
}

static bool cmd_xp(const char *arg, GString *out)
{
    return cmd_x_common(arg, out, false);
}

/* ---- CPU dumps: registers, tlb, mem ---- */

static void dump_out(void *opaque, const char *text)
{
    g_string_append(opaque, text);
}

static bool cpu_has_dump(const tes_cpu_ops *ops)
{
    return ops->size >= offsetof(tes_cpu_ops, dump) + sizeof(ops->dump) && ops->dump;
}

/* The CPU's own layout; false when it has none (the caller falls back). */
bool hmp_cpu_dump(tes_cpu *cpu, unsigned what, GString *out)
{
    if (!cpu || !cpu_has_dump(cpu->ops)) {
        return false;
    }
    return cpu->ops->dump(cpu, cpu_state(cpu), what, dump_out, out) == 0;
}

/* The monitor's current CPU (QEMU's mon_get_cpu: there is no `cpu N` here,
 * so the first vCPU, the one info cpus marks with '*'). */
static tes_cpu *monitor_cpu(void)
{
    for (unsigned i = 0; i < cpu_count(); i++) {
        if (cpu_by_index(i)) {
            return cpu_by_index(i);
        }
    }
    return NULL;
}

static bool info_mmu(unsigned what, GString *out)
{
    tes_cpu *cpu = monitor_cpu();

    if (!cpu) {
        g_string_append(out, "no CPU\n");
        return false;
    }
    if (!hmp_cpu_dump(cpu, what, out)) {
        g_string_append_printf(out, "info %s is not available for %s CPUs (nor in QEMU)\n",
                               what == TES_CPU_DUMP_TLB ? "tlb" : "mem",
                               cpu->ops->arch ? cpu->ops->arch : "these");
        return false;
    }
    return true;
}

static bool info_tlb(const char *arg, GString *out)
{
    return info_mmu(TES_CPU_DUMP_TLB, out);
}

static bool info_mem(const char *arg, GString *out)
{
    return info_mmu(TES_CPU_DUMP_MEM, out);
}

/* info lapic [APIC-ID]: the CPU of that APIC ID (x86; QEMU's
 * cpu_by_arch_id), else the current one. */
static bool info_lapic(const char *arg, GString *out)
{
    tes_cpu *cpu = monitor_cpu();

    if (arg && *arg) {
        char *end;
        uint64_t id = g_ascii_strtoull(arg, &end, 0);

        if (*end || !g_ascii_isdigit(*arg)) {
            g_string_append_printf(out, "info lapic: invalid APIC ID '%s'\n", arg);
            return false;
        }
        cpu = NULL;
        for (unsigned i = 0; !cpu && i < cpu_count(); i++) {
            if (cpu_by_index(i) && cpu_arch_id(cpu_by_index(i)) == id) {
                cpu = cpu_by_index(i);
            }
        }
    }
    if (!cpu) {
        g_string_append(out, "No CPU available\n");
        return false;
    }
    if (!hmp_cpu_dump(cpu, TES_CPU_DUMP_LAPIC, out)) {
        g_string_append_printf(out, "Local APIC information not available for %s CPUs\n",
                               cpu->ops->arch ? cpu->ops->arch : "these");
        return false;
    }
    return true;
}

/* ---- info irq, info mtree -f ---- */

static void irq_dev(tes_device *d, void *opaque)
{
    GString *out = opaque;

    if (!d->n_irq_in) {
        return;
    }
    g_string_append_printf(out, "IRQ statistics for %s:\n", d->name);
    for (unsigned i = 0; i < d->n_irq_in; i++) {
        if (d->irq_in[i] && d->irq_in[i]->raised) {
            g_string_append_printf(out, "%2u: %" PRIu64 "\n", i, d->irq_in[i]->raised);
        }
    }
}

static bool info_irq(const char *arg, GString *out)
{
    devices_foreach(irq_dev, out);
    return true;
}

/* info pic: each interrupt controller that shows its state (tes_type_info
 * print_info, ABI 1.10), in device tree order; nothing where none does
 * (QEMU's GICs show nothing either). */
static void pic_dev(tes_device *d, void *opaque)
{
    const tes_type_info *t = d->type;

    if (d->realized && t->size >= offsetof(tes_type_info, print_info) + sizeof(t->print_info) &&
        t->print_info) {
        t->print_info(d, d->s, dump_out, opaque);
    }
}

static bool info_pic(const char *arg, GString *out)
{
    devices_foreach(pic_dev, out);
    return true;
}

static bool info_mtree(const char *arg, GString *out)
{
    if (arg && strcmp(arg, "-f") == 0) {
        mtree_print_flat(out);
    } else if (arg && *arg) {
        g_string_append_printf(out, "info mtree: unknown option '%s' (expected -f)\n", arg);
        return false;
    } else {
        mtree_print(out);
    }
    return true;
}

const hmp_ext_cmd hmp_inspect_commands[] = {
    {"x", cmd_x, "x /fmt addr -- virtual memory dump starting at 'addr'"},
    {"xp", cmd_xp, "xp /fmt addr -- physical memory dump starting at 'addr'"},
    {"trace-event", cmd_trace_event, "trace-event name on|off -- changes status of a trace event"},
    {NULL, NULL, NULL},
};

const hmp_ext_cmd hmp_inspect_infos[] = {
    {"trace-events", info_trace_events, "show available trace-events & their state"},
    {"tlb", info_tlb, "show virtual to physical memory mappings"},
    {"mem", info_mem, "show the active virtual memory mappings"},
    {"lapic", info_lapic,
     "show the local APIC state (info lapic [apic-id]; default: the current CPU)"},
    {"irq", info_irq, "show the interrupts statistics"},
    {"pic", info_pic, "show PIC state"},
    {"mtree", info_mtree, "show the memory tree (-f: the flat view)"},
    {NULL, NULL, NULL},
};
