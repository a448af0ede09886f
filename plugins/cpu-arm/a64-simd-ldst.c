/*
 * cpu-arm: AdvSIMD load/store structures (Arm ARM C4.1.4 "Advanced SIMD
 * load/store multiple structures" and "single structure", with and without
 * post-index): LD1-LD4/ST1-ST4, LD1-LD4 lane, ST1-ST4 lane, LD1R-LD4R.
 *
 * Loads gather into temporaries and commit only when every access worked,
 * so a fault (which Linux fixes up and then retries) leaves registers and
 * the base register as they were. Stores may be partly done on a fault,
 * which the architecture allows.
 */
#include "a64-simd.h"

#define RN ((insn >> 5) & 31)
#define RM ((insn >> 16) & 31)
#define RT (insn & 31)
#define QBIT ((insn >> 30) & 1)

static void writeback(arm_cpu *c, uint32_t insn, uint64_t base, uint64_t imm)
{
    if ((insn >> 23) & 1) {
        set_sp(c, RN, base + (RM == 31 ? imm : c->x[RM]));
    }
}

/* LD1..LD4 / ST1..ST4 (multiple structures). */
static void ldst_multiple(arm_cpu *c, uint32_t insn)
{
    unsigned opc = (insn >> 12) & 15, size = (insn >> 10) & 3, rpt, selem;
    bool load = (insn >> 22) & 1;
    switch (opc) {
    case 0x0: rpt = 1; selem = 4; break;
    case 0x2: rpt = 4; selem = 1; break;
    case 0x4: rpt = 1; selem = 3; break;
    case 0x6: rpt = 3; selem = 1; break;
    case 0x7: rpt = 1; selem = 1; break;
    case 0x8: rpt = 1; selem = 2; break;
    case 0xa: rpt = 2; selem = 1; break;
    default:
        simd_unimp(c, insn);
        return;
    }
    if ((!((insn >> 23) & 1) && RM != 0) || (size == 3 && !QBIT && selem > 1)) {
        simd_unimp(c, insn);
        return;
    }
    unsigned eb = 1u << size, nel = (QBIT ? 16 : 8) >> size, nregs = rpt * selem;
    uint64_t base = reg_sp(c, RN), addr = base, val;
    vreg t[4] = { { { 0 } } };
    for (unsigned r = 0; r < rpt; r++) {
        if (selem == 1) {
            /* Plain consecutive registers: whole doublewords at a time. */
            unsigned reg = (RT + r) & 31;
            for (unsigned h = 0; h < (QBIT ? 2u : 1u); h++, addr += 8) {
                if (load) {
                    if (!arm_read(c, addr, 8, &val, ACC_NORMAL)) {
                        return;
                    }
                    t[r].d[h] = val;
                } else if (!arm_write(c, addr, 8, c->v[reg].d[h], ACC_NORMAL)) {
                    return;
                }
            }
            continue;
        }
        for (unsigned e = 0; e < nel; e++) {
            for (unsigned s = 0; s < selem; s++, addr += eb) {
                unsigned reg = (RT + s) & 31;
                if (load) {
                    if (!arm_read(c, addr, eb, &val, ACC_NORMAL)) {
                        return;
                    }
                    elt_set(&t[s], e, size, val);
                } else if (!arm_write(c, addr, eb, elt_get(&c->v[reg], e, size),
                                      ACC_NORMAL)) {
                    return;
                }
            }
        }
    }
    if (load) {
        for (unsigned i = 0; i < nregs; i++) {
            c->v[(RT + i) & 31] = t[i];
        }
    }
    writeback(c, insn, base, addr - base);
}

/* Single structure: one lane, or LDnR replicating to all lanes. */
static void ldst_single(arm_cpu *c, uint32_t insn)
{
    unsigned opc = (insn >> 13) & 7, s = (insn >> 12) & 1, size = (insn >> 10) & 3;
    unsigned selem = (((opc & 1) << 1) | ((insn >> 21) & 1)) + 1, scale = opc >> 1, index;
    bool load = (insn >> 22) & 1, q = QBIT, replicate = scale == 3;
    if (!((insn >> 23) & 1) && RM != 0) {
        simd_unimp(c, insn);
        return;
    }
    switch (scale) {
    case 0:
        index = (q << 3) | (s << 2) | size;
        break;
    case 1:
        index = (q << 2) | (s << 1) | (size >> 1);
        if (size & 1) {
            simd_unimp(c, insn);
            return;
        }
        break;
    case 2:
        if (size >= 2 || (size == 1 && s)) {
            simd_unimp(c, insn);
            return;
        }
        index = size ? q : (q << 1) | s;
        scale = size ? 3 : 2;
        break;
    default:
        if (!load || s) {
            simd_unimp(c, insn);
            return;
        }
        scale = size;
        index = 0;
        break;
    }
    unsigned eb = 1u << scale;
    uint64_t base = reg_sp(c, RN), addr = base, val;
    vreg t[4];
    for (unsigned i = 0; i < selem; i++, addr += eb) {
        unsigned reg = (RT + i) & 31;
        if (!load) {
            if (!arm_write(c, addr, eb, elt_get(&c->v[reg], index, scale), ACC_NORMAL)) {
                return;
            }
            continue;
        }
        if (!arm_read(c, addr, eb, &val, ACC_NORMAL)) {
            return;
        }
        if (replicate) {
            unsigned n = (q ? 16 : 8) >> scale;
            memset(&t[i], 0, sizeof(t[i]));
            for (unsigned e = 0; e < n; e++) {
                elt_set(&t[i], e, scale, val);
            }
        } else {
            t[i] = c->v[reg];
            elt_set(&t[i], index, scale, val);
        }
    }
    if (load) {
        for (unsigned i = 0; i < selem; i++) {
            c->v[(RT + i) & 31] = t[i];
        }
    }
    writeback(c, insn, base, addr - base);
}

/* 0 Q 0011 0 P L ...: bit 24 selects single, bit 23 post-index. */
void a64_simd_ldst_struct(arm_cpu *c, uint32_t insn)
{
    if (!arm_fp_access_ok(c)) {
        return;
    }
    if ((insn >> 31) || ((insn >> 25) & 0x1f) != 0x06) {
        simd_unimp(c, insn);
        return;
    }
    if ((insn >> 24) & 1) {
        ldst_single(c, insn);
    } else if ((insn >> 21) & 1) {
        simd_unimp(c, insn); /* multiple structures have bit 21 clear */
    } else {
        ldst_multiple(c, insn);
    }
}
