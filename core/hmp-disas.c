/*
 * tessera core: HMP x /i and xp /i, disassembly of guest memory with
 * capstone, in the first vCPU's mode as QEMU's monitor does: AArch64, or
 * x86 in 16-bit (CR0.PE clear), 32-bit or 64-bit (EFER.LMA) code, in
 * AT&T syntax as QEMU prints x86.
 *
 * The mode comes from the registers the gdb stub reads (cr0, efer): a
 * 16-bit protected-mode or a compatibility-mode code segment, whose
 * descriptor bits no register shows, decodes as 32-bit and 64-bit code.
 */
#include <capstone/capstone.h>
#include <string.h>

#include "core.h"
#include "gdbstub.h"
#include "monitor.h"

#define DISAS_MAX_INSN 16 /* x86's longest instruction */

/* A register of the vCPU by its gdb name, or 0. */
static uint64_t reg_by_name(tes_cpu *cpu, const char *name)
{
    const gdb_arch *a = gdb_arch_find(cpu->ops->arch);
    int n = a ? gdb_arch_reg_find(a, name) : -1;
    uint8_t buf[8] = {0};
    uint64_t v = 0;

    if (n < 0 || !cpu->ops->read_reg ||
        cpu->ops->read_reg(cpu, cpu_state(cpu), n, buf, sizeof(buf)) < 0) {
        return 0;
    }
    for (int i = 7; i >= 0; i--) {
        v = v << 8 | buf[i];
    }
    return v;
}

/* capstone's handle for the vCPU's current mode; false when its
 * architecture is not one capstone is asked for here. */
static bool open_for(tes_cpu *cpu, csh *h, const char **what)
{
    const char *arch = cpu->ops->arch ? cpu->ops->arch : "";
    cs_mode mode;

    if (strcmp(arch, "aarch64") == 0) {
        *what = "AArch64";
        return cs_open(CS_ARCH_ARM64, CS_MODE_ARM, h) == CS_ERR_OK;
    }
    if (strcmp(arch, "x86_64") != 0) {
        return false;
    }
    if (!(reg_by_name(cpu, "cr0") & 1)) {
        mode = CS_MODE_16, *what = "x86 16-bit";
    } else if (reg_by_name(cpu, "efer") & (1u << 10)) {
        mode = CS_MODE_64, *what = "x86 64-bit";
    } else {
        mode = CS_MODE_32, *what = "x86 32-bit";
    }
    if (cs_open(CS_ARCH_X86, mode, h) != CS_ERR_OK) {
        return false;
    }
    cs_option(*h, CS_OPT_SYNTAX, CS_OPT_SYNTAX_ATT);
    return true;
}

/* Up to DISAS_MAX_INSN bytes at addr (fewer where translation stops). */
static size_t fetch(bool virt, uint64_t addr, uint8_t *buf)
{
    size_t n = 0;
    uint64_t v;

    while (n < DISAS_MAX_INSN && hmp_read_value(virt, addr + n, 1, &v)) {
        buf[n++] = (uint8_t)v;
    }
    return n;
}

bool hmp_disas(GString *out, uint64_t addr, unsigned count, bool virt)
{
    tes_cpu *cpu = cpu_by_index(0);
    const char *what = "";
    cs_insn *insn;
    csh h;

    if (!cpu || !open_for(cpu, &h, &what)) {
        g_string_append(out, "x /i: no vCPU whose architecture can be disassembled\n");
        return false;
    }
    for (unsigned i = 0; i < count; i++) {
        uint8_t buf[DISAS_MAX_INSN];
        size_t n = fetch(virt, addr, buf);

        if (n == 0) {
            g_string_append_printf(out, "0x%016" PRIx64 ":  Cannot access memory\n", addr);
            break;
        }
        if (cs_disasm(h, buf, n, addr, 1, &insn) == 1) {
            if (insn->op_str[0]) {
                g_string_append_printf(out, "0x%016" PRIx64 ":  %-8s %s\n", addr,
                                       insn->mnemonic, insn->op_str);
            } else {
                g_string_append_printf(out, "0x%016" PRIx64 ":  %s\n", addr, insn->mnemonic);
            }
            addr += insn->size;
            cs_free(insn, 1);
        } else {
            /* Not an instruction of this mode: shown as data, as QEMU's
             * ".byte"; AArch64 instructions are 4 bytes, x86 moves on by 1. */
            unsigned step = strcmp(what, "AArch64") == 0 ? 4 : 1;

            g_string_append_printf(out, "0x%016" PRIx64 ":  (bad)\n", addr);
            addr += step;
        }
    }
    cs_close(&h);
    return true;
}
