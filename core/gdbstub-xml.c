/*
 * tessera core: gdb target descriptions ("Target Descriptions" appendix
 * of the GDB manual), one per CPU architecture.
 *
 * gdb matches registers by name within the features it knows
 * (org.gnu.gdb.i386.core/.sse/.segments, org.gnu.gdb.aarch64.core/.fpu/
 * .tls) and numbers them for the remote protocol in document order; the
 * CPU plugin's read_reg/write_reg take the same numbers (cpu.h). System
 * registers gdb has no feature for go in one of ours, which gdb shows
 * under their names ("info registers cr3", "p $sctlr_el1").
 *
 * The XML is generated from the tables below, once, and served whole by
 * qXfer:features:read:target.xml (no xi:include).
 */
#include <string.h>

#include "gdbstub.h"

typedef struct gdb_reg {
    const char *name;
    unsigned bits;
    const char *type;
} gdb_reg;

typedef struct gdb_feature {
    const char *name;
    const char *types; /* XML type definitions (a feature's own scope) */
    const gdb_reg *regs;
    unsigned n;
} gdb_feature;

struct gdb_arch {
    const char *arch;     /* tes_cpu_ops.arch */
    const char *gdb_name; /* <architecture> */
    const gdb_feature *features;
    unsigned n_features;
    unsigned g_regs; /* 'g' covers registers 0..g_regs-1 */
    int pc_reg;
    char *xml;       /* built on first use */
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- x86-64 (gdb's i386:x86-64; numbering as cpu-x86's read_reg) ---- */

static const char x86_core_types[] =
    "<flags id=\"x86_eflags\" size=\"4\">"
    "<field name=\"CF\" start=\"0\" end=\"0\"/><field name=\"\" start=\"1\" end=\"1\"/>"
    "<field name=\"PF\" start=\"2\" end=\"2\"/><field name=\"AF\" start=\"4\" end=\"4\"/>"
    "<field name=\"ZF\" start=\"6\" end=\"6\"/><field name=\"SF\" start=\"7\" end=\"7\"/>"
    "<field name=\"TF\" start=\"8\" end=\"8\"/><field name=\"IF\" start=\"9\" end=\"9\"/>"
    "<field name=\"DF\" start=\"10\" end=\"10\"/><field name=\"OF\" start=\"11\" end=\"11\"/>"
    "<field name=\"NT\" start=\"14\" end=\"14\"/><field name=\"RF\" start=\"16\" end=\"16\"/>"
    "<field name=\"VM\" start=\"17\" end=\"17\"/><field name=\"AC\" start=\"18\" end=\"18\"/>"
    "<field name=\"VIF\" start=\"19\" end=\"19\"/><field name=\"VIP\" start=\"20\" end=\"20\"/>"
    "<field name=\"ID\" start=\"21\" end=\"21\"/></flags>";

static const char x86_sse_types[] =
    "<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
    "<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
    "<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>"
    "<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
    "<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>"
    "<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
    "<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/>"
    "<field name=\"v2_double\" type=\"v2d\"/><field name=\"v16_int8\" type=\"v16i8\"/>"
    "<field name=\"v8_int16\" type=\"v8i16\"/><field name=\"v4_int32\" type=\"v4i32\"/>"
    "<field name=\"v2_int64\" type=\"v2i64\"/><field name=\"uint128\" type=\"uint128\"/>"
    "</union>";

static const gdb_reg x86_core[] = {
    {"rax", 64, "int64"}, {"rbx", 64, "int64"}, {"rcx", 64, "int64"},
    {"rdx", 64, "int64"}, {"rsi", 64, "int64"}, {"rdi", 64, "int64"},
    {"rbp", 64, "data_ptr"}, {"rsp", 64, "data_ptr"},
    {"r8", 64, "int64"}, {"r9", 64, "int64"}, {"r10", 64, "int64"}, {"r11", 64, "int64"},
    {"r12", 64, "int64"}, {"r13", 64, "int64"}, {"r14", 64, "int64"}, {"r15", 64, "int64"},
    {"rip", 64, "code_ptr"}, {"eflags", 32, "x86_eflags"},
    {"cs", 32, "int32"}, {"ss", 32, "int32"}, {"ds", 32, "int32"},
    {"es", 32, "int32"}, {"fs", 32, "int32"}, {"gs", 32, "int32"},
    {"st0", 80, "i387_ext"}, {"st1", 80, "i387_ext"}, {"st2", 80, "i387_ext"},
    {"st3", 80, "i387_ext"}, {"st4", 80, "i387_ext"}, {"st5", 80, "i387_ext"},
    {"st6", 80, "i387_ext"}, {"st7", 80, "i387_ext"},
    {"fctrl", 32, "int"}, {"fstat", 32, "int"}, {"ftag", 32, "int"}, {"fiseg", 32, "int"},
    {"fioff", 32, "int"}, {"foseg", 32, "int"}, {"fooff", 32, "int"}, {"fop", 32, "int"},
};

static const gdb_reg x86_sse[] = {
    {"xmm0", 128, "vec128"}, {"xmm1", 128, "vec128"}, {"xmm2", 128, "vec128"},
    {"xmm3", 128, "vec128"}, {"xmm4", 128, "vec128"}, {"xmm5", 128, "vec128"},
    {"xmm6", 128, "vec128"}, {"xmm7", 128, "vec128"}, {"xmm8", 128, "vec128"},
    {"xmm9", 128, "vec128"}, {"xmm10", 128, "vec128"}, {"xmm11", 128, "vec128"},
    {"xmm12", 128, "vec128"}, {"xmm13", 128, "vec128"}, {"xmm14", 128, "vec128"},
    {"xmm15", 128, "vec128"}, {"mxcsr", 32, "int"},
};

static const gdb_reg x86_segments[] = {
    {"fs_base", 64, "int64"}, {"gs_base", 64, "int64"},
};

static const gdb_reg x86_sys[] = {
    {"k_gs_base", 64, "int64"}, {"cr0", 64, "int64"}, {"cr2", 64, "int64"},
    {"cr3", 64, "int64"}, {"cr4", 64, "int64"}, {"cr8", 64, "int64"},
    {"efer", 64, "int64"},
};

static const gdb_feature x86_features[] = {
    {"org.gnu.gdb.i386.core", x86_core_types, x86_core, N(x86_core)},
    {"org.gnu.gdb.i386.sse", x86_sse_types, x86_sse, N(x86_sse)},
    {"org.gnu.gdb.i386.segments", "", x86_segments, N(x86_segments)},
    {"org.tessera.gdb.i386.sys", "", x86_sys, N(x86_sys)},
};

/* ---- AArch64 (numbering as cpu-arm's read_reg) ---- */

static const char arm_core_types[] =
    "<flags id=\"cpsr_flags\" size=\"4\">"
    "<field name=\"SP\" start=\"0\" end=\"0\"/><field name=\"EL\" start=\"2\" end=\"3\"/>"
    "<field name=\"nRW\" start=\"4\" end=\"4\"/><field name=\"F\" start=\"6\" end=\"6\"/>"
    "<field name=\"I\" start=\"7\" end=\"7\"/><field name=\"A\" start=\"8\" end=\"8\"/>"
    "<field name=\"D\" start=\"9\" end=\"9\"/><field name=\"IL\" start=\"20\" end=\"20\"/>"
    "<field name=\"SS\" start=\"21\" end=\"21\"/><field name=\"V\" start=\"28\" end=\"28\"/>"
    "<field name=\"C\" start=\"29\" end=\"29\"/><field name=\"Z\" start=\"30\" end=\"30\"/>"
    "<field name=\"N\" start=\"31\" end=\"31\"/></flags>";

static const char arm_fpu_types[] =
    "<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
    "<vector id=\"v2u\" type=\"uint64\" count=\"2\"/>"
    "<vector id=\"v2i\" type=\"int64\" count=\"2\"/>"
    "<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
    "<vector id=\"v4u\" type=\"uint32\" count=\"4\"/>"
    "<vector id=\"v4i\" type=\"int32\" count=\"4\"/>"
    "<vector id=\"v8u\" type=\"uint16\" count=\"8\"/>"
    "<vector id=\"v8i\" type=\"int16\" count=\"8\"/>"
    "<vector id=\"v16u\" type=\"uint8\" count=\"16\"/>"
    "<vector id=\"v16i\" type=\"int8\" count=\"16\"/>"
    "<vector id=\"v1u\" type=\"uint128\" count=\"1\"/>"
    "<vector id=\"v1i\" type=\"int128\" count=\"1\"/>"
    "<union id=\"vnd\"><field name=\"f\" type=\"v2d\"/><field name=\"u\" type=\"v2u\"/>"
    "<field name=\"s\" type=\"v2i\"/></union>"
    "<union id=\"vns\"><field name=\"f\" type=\"v4f\"/><field name=\"u\" type=\"v4u\"/>"
    "<field name=\"s\" type=\"v4i\"/></union>"
    "<union id=\"vnh\"><field name=\"u\" type=\"v8u\"/><field name=\"s\" type=\"v8i\"/></union>"
    "<union id=\"vnb\"><field name=\"u\" type=\"v16u\"/><field name=\"s\" type=\"v16i\"/></union>"
    "<union id=\"vnq\"><field name=\"u\" type=\"v1u\"/><field name=\"s\" type=\"v1i\"/></union>"
    "<union id=\"aarch64v\"><field name=\"d\" type=\"vnd\"/><field name=\"s\" type=\"vns\"/>"
    "<field name=\"h\" type=\"vnh\"/><field name=\"b\" type=\"vnb\"/>"
    "<field name=\"q\" type=\"vnq\"/></union>";

static const gdb_reg arm_core[] = {
    {"x0", 64, "int"}, {"x1", 64, "int"}, {"x2", 64, "int"}, {"x3", 64, "int"},
    {"x4", 64, "int"}, {"x5", 64, "int"}, {"x6", 64, "int"}, {"x7", 64, "int"},
    {"x8", 64, "int"}, {"x9", 64, "int"}, {"x10", 64, "int"}, {"x11", 64, "int"},
    {"x12", 64, "int"}, {"x13", 64, "int"}, {"x14", 64, "int"}, {"x15", 64, "int"},
    {"x16", 64, "int"}, {"x17", 64, "int"}, {"x18", 64, "int"}, {"x19", 64, "int"},
    {"x20", 64, "int"}, {"x21", 64, "int"}, {"x22", 64, "int"}, {"x23", 64, "int"},
    {"x24", 64, "int"}, {"x25", 64, "int"}, {"x26", 64, "int"}, {"x27", 64, "int"},
    {"x28", 64, "int"}, {"x29", 64, "int"}, {"x30", 64, "int"},
    {"sp", 64, "data_ptr"}, {"pc", 64, "code_ptr"}, {"cpsr", 32, "cpsr_flags"},
};

static const gdb_reg arm_fpu[] = {
    {"v0", 128, "aarch64v"}, {"v1", 128, "aarch64v"}, {"v2", 128, "aarch64v"},
    {"v3", 128, "aarch64v"}, {"v4", 128, "aarch64v"}, {"v5", 128, "aarch64v"},
    {"v6", 128, "aarch64v"}, {"v7", 128, "aarch64v"}, {"v8", 128, "aarch64v"},
    {"v9", 128, "aarch64v"}, {"v10", 128, "aarch64v"}, {"v11", 128, "aarch64v"},
    {"v12", 128, "aarch64v"}, {"v13", 128, "aarch64v"}, {"v14", 128, "aarch64v"},
    {"v15", 128, "aarch64v"}, {"v16", 128, "aarch64v"}, {"v17", 128, "aarch64v"},
    {"v18", 128, "aarch64v"}, {"v19", 128, "aarch64v"}, {"v20", 128, "aarch64v"},
    {"v21", 128, "aarch64v"}, {"v22", 128, "aarch64v"}, {"v23", 128, "aarch64v"},
    {"v24", 128, "aarch64v"}, {"v25", 128, "aarch64v"}, {"v26", 128, "aarch64v"},
    {"v27", 128, "aarch64v"}, {"v28", 128, "aarch64v"}, {"v29", 128, "aarch64v"},
    {"v30", 128, "aarch64v"}, {"v31", 128, "aarch64v"},
    {"fpsr", 32, "int"}, {"fpcr", 32, "int"},
};

static const gdb_reg arm_tls[] = {
    {"tpidr", 64, "data_ptr"},
};

/* EL1 state a kernel debugger looks at, in cpu-arm's numbering from 69. */
static const gdb_reg arm_sys[] = {
    {"sp_el0", 64, "data_ptr"}, {"sp_el1", 64, "data_ptr"}, {"elr_el1", 64, "code_ptr"},
    {"spsr_el1", 64, "int"}, {"esr_el1", 64, "int"}, {"far_el1", 64, "data_ptr"},
    {"sctlr_el1", 64, "int"}, {"tcr_el1", 64, "int"}, {"ttbr0_el1", 64, "int"},
    {"ttbr1_el1", 64, "int"}, {"mair_el1", 64, "int"}, {"vbar_el1", 64, "code_ptr"},
    {"tpidr_el1", 64, "data_ptr"}, {"contextidr_el1", 64, "int"}, {"cpacr_el1", 64, "int"},
};

static const gdb_feature arm_features[] = {
    {"org.gnu.gdb.aarch64.core", arm_core_types, arm_core, N(arm_core)},
    {"org.gnu.gdb.aarch64.fpu", arm_fpu_types, arm_fpu, N(arm_fpu)},
    {"org.gnu.gdb.aarch64.tls", "", arm_tls, N(arm_tls)},
    {"org.tessera.gdb.aarch64.sys", "", arm_sys, N(arm_sys)},
};

static gdb_arch arches[] = {
    {"x86_64", "i386:x86-64", x86_features, N(x86_features), 57, 16, NULL},
    {"aarch64", "aarch64", arm_features, N(arm_features), 68, 32, NULL},
};

/* ---- generation ---- */

static char *build_xml(const gdb_arch *a)
{
    GString *x = g_string_new("<?xml version=\"1.0\"?>\n"
                              "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target>\n");
    unsigned num = 0;

    g_string_append_printf(x, "<architecture>%s</architecture>\n", a->gdb_name);
    for (unsigned f = 0; f < a->n_features; f++) {
        const gdb_feature *ft = &a->features[f];

        g_string_append_printf(x, "<feature name=\"%s\">\n", ft->name);
        if (*ft->types) {
            g_string_append(x, ft->types); /* before their first use */
            g_string_append_c(x, '\n');
        }
        for (unsigned r = 0; r < ft->n; r++, num++) {
            g_string_append_printf(x, "<reg name=\"%s\" bitsize=\"%u\" type=\"%s\" regnum=\"%u\"/>\n",
                                   ft->regs[r].name, ft->regs[r].bits, ft->regs[r].type, num);
        }
        g_string_append(x, "</feature>\n");
    }
    g_string_append(x, "</target>\n");
    return g_string_free(x, false);
}

const gdb_arch *gdb_arch_find(const char *arch)
{
    for (unsigned i = 0; arch && i < N(arches); i++) {
        if (strcmp(arches[i].arch, arch) == 0) {
            return &arches[i];
        }
    }
    return NULL;
}

const char *gdb_arch_xml(const gdb_arch *a)
{
    gdb_arch *w = (gdb_arch *)a; /* the cache is ours */

    if (!w->xml) {
        w->xml = build_xml(a);
    }
    return w->xml;
}

unsigned gdb_arch_nregs(const gdb_arch *a)
{
    unsigned n = 0;

    for (unsigned f = 0; f < a->n_features; f++) {
        n += a->features[f].n;
    }
    return n;
}

unsigned gdb_arch_g_regs(const gdb_arch *a)
{
    return a->g_regs;
}

unsigned gdb_arch_reg_bytes(const gdb_arch *a, unsigned reg)
{
    for (unsigned f = 0; f < a->n_features; f++) {
        if (reg < a->features[f].n) {
            return a->features[f].regs[reg].bits / 8;
        }
        reg -= a->features[f].n;
    }
    return 0;
}

int gdb_arch_reg_find(const gdb_arch *a, const char *name)
{
    int n = 0;

    for (unsigned f = 0; f < a->n_features; f++) {
        for (unsigned i = 0; i < a->features[f].n; i++, n++) {
            if (strcmp(a->features[f].regs[i].name, name) == 0) {
                return n;
            }
        }
    }
    return -1;
}

int gdb_arch_pc_reg(const gdb_arch *a)
{
    return a->pc_reg;
}
