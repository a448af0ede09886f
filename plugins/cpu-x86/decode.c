/*
 * cpu-x86: the execution loop and the instruction decoder.
 *
 * x86_run() takes pending interrupts between instructions (NMI first,
 * then the LAPIC's highest-priority one when IF=1 and no STI/MOV SS
 * shadow), then decodes one instruction (prefixes, REX, the one-byte,
 * 0F, 0F38 and 0F3A maps, ModRM/SIB/displacement including RIP-relative
 * and 16-bit addressing, immediates; Intel SDM Vol. 2, chapter 2) and
 * hands it to x86_exec_insn(). Code is fetched a page at a time (at most
 * 15 bytes), so an instruction only touches the next page when it
 * really crosses into it.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "exec.h"

#define MAX_INSN_LEN 15

typedef struct fetch_buf {
    const uint8_t *p; /* the bytes so far: in guest RAM (TLB hit) or b */
    uint8_t b[MAX_INSN_LEN + 1];
    unsigned have, pos;
    uint64_t la;
    bool fixed; /* decoding a given buffer: never fetch more */
    /* A ModRM memory operand's form, so that a cached decode can compute
     * its address again: ea = disp + base + (index << scale). */
    bool mem;
    int8_t base, idx;
    uint8_t scale;
} fetch_buf;

/* Immediate kinds */
enum { I_NONE, I_B, I_Z, I_V, I_W, I_WB, I_AP, I_MOFFS, I_GRP3 };

/* One-byte opcodes with a ModRM byte (bit per opcode). */
static const uint32_t modrm_1[8] = {
    0x0f0f0f0f, 0x0f0f0f0f, /* 00-3f: ALU forms 0-3 of each row */
    0x00000000, 0x00000a0c, /* 40-7f: 62 63 69 6b */
    0xffffffff, 0x00000000, /* 80-bf: 80-9f: groups, mov, lea, pop Ev (8f) */
    0xff0f00f3, 0xc0c00000, /* c0-ff: c0 c1 c4-c7, d0-d3, d8-df; f6 f7 fe ff */
};

static bool has_modrm_1(unsigned op)
{
    if (op >= 0x90 && op < 0xa0) {
        return false;
    }
    return (modrm_1[op >> 5] >> (op & 31)) & 1;
}

/* 0F opcodes without a ModRM byte. */
static bool has_modrm_0f(unsigned op)
{
    switch (op) {
    case 0x05: case 0x06: case 0x07: case 0x08: case 0x09: case 0x0a: case 0x0b:
    case 0x0c: case 0x0e: case 0x30: case 0x31: case 0x32: case 0x33: case 0x34:
    case 0x35: case 0x36: case 0x37: case 0x77: case 0xa0: case 0xa1: case 0xa2:
    case 0xa8: case 0xa9: case 0xaa:
        return false;
    default:
        return !(op >= 0x80 && op <= 0x8f) && !(op >= 0xc8 && op <= 0xcf);
    }
}

static int imm_kind_1(unsigned op)
{
    if (op < 0x40) {
        return (op & 7) == 4 ? I_B : (op & 7) == 5 ? I_Z : I_NONE;
    }
    if ((op >= 0x70 && op <= 0x7f) || (op >= 0xb0 && op <= 0xb7) ||
        (op >= 0xe0 && op <= 0xe7)) {
        return I_B;
    }
    if (op >= 0xb8 && op <= 0xbf) {
        return I_V;
    }
    switch (op) {
    case 0x6a: case 0x6b: case 0x80: case 0x82: case 0x83: case 0xa8: case 0xc0:
    case 0xc1: case 0xc6: case 0xcd: case 0xd4: case 0xd5: case 0xeb:
        return I_B;
    case 0x68: case 0x69: case 0x81: case 0xa9: case 0xc7: case 0xe8: case 0xe9:
        return I_Z;
    case 0xc2: case 0xca:
        return I_W;
    case 0xc8:
        return I_WB;
    case 0x9a: case 0xea:
        return I_AP;
    case 0xa0: case 0xa1: case 0xa2: case 0xa3:
        return I_MOFFS;
    case 0xf6: case 0xf7:
        return I_GRP3;
    default:
        return I_NONE;
    }
}

static int imm_kind_0f(unsigned op)
{
    if (op >= 0x80 && op <= 0x8f) {
        return I_Z;
    }
    switch (op) {
    case 0x70: case 0x71: case 0x72: case 0x73: case 0xa4: case 0xac: case 0xba:
    case 0xc2: case 0xc4: case 0xc5: case 0xc6:
        return I_B;
    default:
        return I_NONE;
    }
}

/* Fetch the next chunk: up to the end of the page, at most 15 bytes in
 * all (#GP(0) beyond, SDM Vol. 2, 2.3.11). The first chunk is read in
 * place when the fetch TLB holds the page's host pointer (the common
 * case: no copy); a chunk from the next page, or from MMIO, is copied. */
static bool fetch_more(x86_cpu *c, fetch_buf *f)
{
    uint64_t at = f->la + f->have;
    unsigned n = 4096 - (unsigned)(at & 0xfff);

    if (f->fixed) {
        return false; /* the instruction goes beyond the buffer */
    }
    if (n > MAX_INSN_LEN - f->have) {
        n = MAX_INSN_LEN - f->have;
    }
    if (n == 0) {
        x86_raise_gp(c, 0);
        return false;
    }
    if (f->have == 0) {
        const x86_tlb_entry *e =
            &c->tlb_x[c->cpl == 3][(at >> 12) & (X86_TLB_SIZE - 1)];

        if (e->va_tag == ((at & ~0xfffull) | 1) && e->host) {
            f->p = e->host + (at & 0xfff);
            f->have = n;
            return true;
        }
    } else if (f->p != f->b) {
        memcpy(f->b, f->p, f->have);
    }
    f->p = f->b;
    if (!x86_fetch(c, at, f->b + f->have, n)) {
        return false;
    }
    f->have += n;
    return true;
}

static inline bool next_byte(x86_cpu *c, fetch_buf *f, uint8_t *out)
{
    if (f->pos >= f->have && !fetch_more(c, f)) {
        return false;
    }
    *out = f->p[f->pos++];
    return true;
}

/* Little-endian immediate of n bytes. */
static bool next_bytes(x86_cpu *c, fetch_buf *f, unsigned n, uint64_t *v)
{
    uint64_t r = 0;

    for (unsigned i = 0; i < n; i++) {
        uint8_t b;

        if (!next_byte(c, f, &b)) {
            return false;
        }
        r |= (uint64_t)b << (8 * i);
    }
    *v = r;
    return true;
}

static fetch_buf *cur_fetch; /* the decoder's buffer, for x86_decode_modrm */

/* 16-bit addressing forms (SDM Vol. 2, table 2-1). */
static bool modrm16(x86_cpu *c, x86_insn *x, fetch_buf *f)
{
    static const int8_t base[8] = {R_EBX, R_EBX, R_EBP, R_EBP, R_ESI, R_EDI, R_EBP, R_EBX};
    static const int8_t index[8] = {R_ESI, R_EDI, R_ESI, R_EDI, -1, -1, -1, -1};
    unsigned rm = x->rm & 7;
    uint64_t ea = 0, d = 0;

    if (x->mod == 0 && rm == 6) {
        if (!next_bytes(c, f, 2, &d)) {
            return false;
        }
        x->disp = d;
        x->ea = d;
        if (x->seg == S_NONE) {
            x->seg = S_DS;
        }
        f->mem = true;
        f->base = f->idx = -1;
        f->scale = 0;
        return true;
    }
    if (x->mod == 1 && !next_bytes(c, f, 1, &d)) {
        return false;
    }
    if (x->mod == 2 && !next_bytes(c, f, 2, &d)) {
        return false;
    }
    d = x->mod == 1 ? sext(d, 1) : d;
    ea = c->regs[base[rm]] + d;
    if (index[rm] >= 0) {
        ea += c->regs[index[rm]];
    }
    x->disp = d;
    x->ea = ea & 0xffff;
    f->mem = true;
    f->base = base[rm];
    f->idx = index[rm];
    f->scale = 0;
    if (x->seg == S_NONE) {
        x->seg = (rm == 2 || rm == 3 || rm == 6) ? S_SS : S_DS;
    }
    return true;
}

/* 32/64-bit addressing with SIB (SDM Vol. 2, tables 2-2, 2-3; 2.2.1.6
 * RIP-relative: the final address is completed once the length is known). */
static bool modrm32(x86_cpu *c, x86_insn *x, fetch_buf *f)
{
    unsigned rm = x->rm & 7, dsize = x->mod == 1 ? 1 : x->mod == 2 ? 4 : 0;
    int basereg = x->rm, idx = -1, scale = 0;
    uint64_t ea = 0, d = 0;
    bool ss = false;

    if (rm == 4) {
        uint8_t sib;

        if (!next_byte(c, f, &sib)) {
            return false;
        }
        scale = sib >> 6;
        idx = ((sib >> 3) & 7) | ((x->rex & 2) << 2);
        idx = idx == 4 ? -1 : idx;
        basereg = (sib & 7) | ((x->rex & 1) << 3);
        if ((sib & 7) == 5 && x->mod == 0) {
            basereg = -1;
            dsize = 4;
        }
    } else if (rm == 5 && x->mod == 0) {
        basereg = -1;
        dsize = 4;
        x->rip_relative = c->code_bits == 64;
    }
    if (dsize && !next_bytes(c, f, dsize, &d)) {
        return false;
    }
    d = sext(d, dsize ? dsize : 8);
    x->disp = d;
    ea = d;
    if (basereg >= 0) {
        ea += c->regs[basereg];
        ss = (basereg & 7) == R_ESP || (basereg & 7) == R_EBP;
    }
    if (idx >= 0) {
        ea += c->regs[idx] << scale;
    }
    x->ea = x->addrsize == 4 ? (uint32_t)ea : ea;
    if (x->seg == S_NONE) {
        x->seg = ss ? S_SS : S_DS;
    }
    f->mem = true;
    f->base = (int8_t)basereg;
    f->idx = (int8_t)idx;
    f->scale = (uint8_t)scale;
    return true;
}

static bool decode_modrm(x86_cpu *c, x86_insn *x, fetch_buf *f)
{
    uint8_t m;

    if (!next_byte(c, f, &m)) {
        return false;
    }
    x->has_modrm = true;
    x->mod = m >> 6;
    x->reg = ((m >> 3) & 7) | ((x->rex & 4) << 1);
    x->rm = (m & 7) | ((x->rex & 1) << 3);
    x->rm_is_mem = x->mod != 3;
    if (!x->rm_is_mem) {
        return true;
    }
    return x->addrsize == 2 ? modrm16(c, x, f) : modrm32(c, x, f);
}

bool x86_decode_modrm(x86_cpu *c, x86_insn *x)
{
    return decode_modrm(c, x, cur_fetch);
}

/* Prefixes and REX (SDM Vol. 2, 2.1.1 and 2.2.1): a REX not directly
 * before the opcode is ignored. Returns the opcode's first byte. */
static bool decode_prefixes(x86_cpu *c, x86_insn *x, fetch_buf *f, uint8_t *opb, bool *p66)
{
    static const int8_t segpfx[8] = {S_ES, S_CS, S_SS, S_DS};
    uint8_t b;
    bool a67 = false;

    for (;;) {
        if (!next_byte(c, f, &b)) {
            return false;
        }
        switch (b) {
        case 0x66: *p66 = true; x->rex = 0; continue;
        case 0x67: a67 = true; x->rex = 0; continue;
        case 0xf2: x->repne = true; x->rep = false; x->rex = 0; continue;
        case 0xf3: x->rep = true; x->repne = false; x->rex = 0; continue;
        case 0xf0: x->lock = true; x->rex = 0; continue;
        case 0x26: case 0x2e: case 0x36: case 0x3e:
            /* ES/CS/SS/DS overrides are null prefixes in 64-bit mode */
            if (c->code_bits != 64) {
                x->seg = segpfx[(b >> 3) & 3];
            }
            x->rex = 0;
            continue;
        case 0x64: x->seg = S_FS; x->rex = 0; continue;
        case 0x65: x->seg = S_GS; x->rex = 0; continue;
        default:
            break;
        }
        if (c->code_bits == 64 && (b & 0xf0) == 0x40) {
            x->rex = b;
            x->has_rex = true;
            continue;
        }
        break;
    }
    x->has_rex = x->rex != 0; /* REX bytes are 0x40..0x4f: never 0 */
    if (c->code_bits == 16) {
        x->addrsize = a67 ? 4 : 2;
    } else if (c->code_bits == 32) {
        x->addrsize = a67 ? 2 : 4;
    } else {
        x->addrsize = a67 ? 4 : 8;
    }
    *opb = b;
    return true;
}

static bool decode_imm(x86_cpu *c, x86_insn *x, fetch_buf *f, int kind)
{
    unsigned zs = x->opsize == 2 ? 2 : 4;
    uint64_t v = 0, v2 = 0;

    switch (kind) {
    case I_NONE:
        return true;
    case I_GRP3:
        if ((x->reg & 7) > 1) {
            return true;
        }
        kind = x->op == 0xf6 ? I_B : I_Z;
        return decode_imm(c, x, f, kind);
    case I_B:
        if (!next_bytes(c, f, 1, &v)) {
            return false;
        }
        x->imm = sext(v, 1);
        return true;
    case I_Z:
        if (!next_bytes(c, f, zs, &v)) {
            return false;
        }
        x->imm = sext(v, zs);
        return true;
    case I_V:
        if (!next_bytes(c, f, x->opsize, &v)) {
            return false;
        }
        x->imm = v;
        return true;
    case I_W:
        if (!next_bytes(c, f, 2, &v)) {
            return false;
        }
        x->imm = v;
        return true;
    case I_WB:
        if (!next_bytes(c, f, 2, &v) || !next_bytes(c, f, 1, &v2)) {
            return false;
        }
        x->imm = v;
        x->imm2 = v2;
        return true;
    case I_AP:
        if (!next_bytes(c, f, zs, &v) || !next_bytes(c, f, 2, &v2)) {
            return false;
        }
        x->imm = v;
        x->imm2 = v2;
        return true;
    default: /* I_MOFFS: an address-size offset */
        if (!next_bytes(c, f, x->addrsize, &v)) {
            return false;
        }
        x->ea = v;
        x->rm_is_mem = true;
        if (x->seg == S_NONE) {
            x->seg = S_DS;
        }
        return true;
    }
}

/* Operand size (SDM Vol. 1, 3.6; Vol. 2, 2.2.1.2): REX.W, then 66. */
static void set_opsize(x86_cpu *c, x86_insn *x, bool p66)
{
    if (x->rex & 8) {
        x->opsize = 8;
    } else if (c->code_bits == 16) {
        x->opsize = p66 ? 4 : 2;
    } else {
        x->opsize = p66 ? 2 : 4;
    }
    x->mandatory = x->rep ? 0xf3 : x->repne ? 0xf2 : p66 ? 0x66 : 0;
}

static void decode_init(x86_insn *x, fetch_buf *f, uint64_t la)
{
    memset(x, 0, sizeof(*x));
    x->seg = S_NONE;
    f->la = la;
    x->start = la;
    f->have = f->pos = 0;
    f->p = f->b;
    f->mem = false;
    f->fixed = false;
}

/* Prefixes to immediates from f (set up by decode_init). */
static bool decode_body(x86_cpu *c, x86_insn *x, fetch_buf *f)
{
    uint8_t b;
    bool p66 = false, modrm;
    int kind;

    if (!decode_prefixes(c, x, f, &b, &p66)) {
        return false;
    }
    set_opsize(c, x, p66);
    if (b != 0x0f) {
        x->op = b;
        modrm = has_modrm_1(b);
        kind = imm_kind_1(b);
    } else {
        if (!next_byte(c, f, &b)) {
            return false;
        }
        if (b == 0x38 || b == 0x3a) {
            uint8_t b3;

            if (!next_byte(c, f, &b3)) {
                return false;
            }
            x->op = (uint16_t)(b << 8 | b3);
            modrm = true;
            kind = b == 0x3a ? I_B : I_NONE;
        } else {
            x->op = 0x0f00 | b;
            modrm = has_modrm_0f(b);
            kind = imm_kind_0f(b);
        }
    }
    if (modrm && !decode_modrm(c, x, f)) {
        return false;
    }
    if (!decode_imm(c, x, f, kind)) {
        return false;
    }
    x->len = (uint8_t)f->pos;
    return true;
}

/* Decode the instruction at c->rip; false when fetching faulted. */
static bool decode(x86_cpu *c, x86_insn *x, fetch_buf *f)
{
    uint64_t la = c->seg[S_CS].base + c->rip;

    decode_init(x, f, c->code_bits != 64 ? (uint32_t)la : la);
    return decode_body(c, x, f);
}

/* The translator decodes from the code page's bytes without executing:
 * the operand address comes back as its form (the ea computed from the
 * registers of now means nothing then). */
bool x86_decode_buf(x86_cpu *c, uint64_t la, const uint8_t *p, unsigned avail, x86_insn *x,
                    x86_ea_form *form)
{
    fetch_buf f;
    fetch_buf *saved = cur_fetch;
    bool ok;

    decode_init(x, &f, la);
    f.p = p;
    f.have = avail < MAX_INSN_LEN ? avail : MAX_INSN_LEN;
    f.fixed = true;
    cur_fetch = &f;
    ok = decode_body(c, x, &f);
    cur_fetch = saved;
    form->mem = f.mem;
    form->base = f.base;
    form->idx = f.idx;
    form->scale = f.scale;
    return ok;
}

static uint64_t ip_mask(const x86_cpu *c)
{
    return c->code_bits == 64 ? ~0ull : c->code_bits == 32 ? 0xffffffffull : 0xffffull;
}

/* ---- decoded-instruction cache ----
 * Decoding is the bulk of an instruction's cost, so the last decode at
 * each linear address (direct-mapped) is kept with the instruction's
 * bytes and the code size it was decoded for. An entry is used only when
 * the fetch TLB maps the address to RAM (so fetching is permitted and
 * the translation is current) and the bytes in memory still equal the
 * cached ones: code patched by the guest, reused pages, DMA and remapped
 * pages all show up as different bytes, so no invalidation is needed.
 * Only instructions within one page that were read in place are kept.
 * The cache is per host thread (vCPUs may run on several threads). */
#define DC_BITS 13
#define DC_SIZE (1u << DC_BITS)

typedef struct dc_entry {
    uint64_t la;       /* linear address | 1 when valid */
    uint64_t b[2];     /* instruction bytes, zero beyond len */
    uint8_t code_bits;
    bool mem;
    int8_t base, idx;
    uint8_t scale;
    x86_insn x;        /* ea holds nothing useful when mem */
} dc_entry;

static __thread dc_entry *dcache;

static inline void dc_bytes(const uint8_t *p, unsigned off, unsigned len, uint64_t out[2])
{
    uint8_t t[16] = {0};

    if (off <= 4096 - 16) {
        memcpy(out, p, 16);
    } else {
        memcpy(t, p, len);
        memcpy(out, t, 16);
    }
    if (len <= 8) {
        out[0] &= len == 8 ? ~0ull : (1ull << (8 * len)) - 1;
        out[1] = 0;
    } else {
        out[1] &= (1ull << (8 * (len - 8))) - 1;
    }
}

static uint64_t dc_ea(const x86_cpu *c, const dc_entry *d)
{
    uint64_t ea = d->x.disp;

    if (d->base >= 0) {
        ea += c->regs[d->base];
    }
    if (d->idx >= 0) {
        ea += c->regs[d->idx] << d->scale;
    }
    return d->x.addrsize == 2 ? ea & 0xffff : d->x.addrsize == 4 ? (uint32_t)ea : ea;
}

/* A cached decode of the instruction at c->rip into x, or false. */
static bool dc_lookup(x86_cpu *c, const dc_entry *dc, x86_insn *x)
{
    uint64_t la = c->seg[S_CS].base + c->rip, b[2];
    const x86_tlb_entry *e;
    const dc_entry *d;
    unsigned off;

    if (c->code_bits != 64) {
        la = (uint32_t)la;
    }
    d = &dc[(la ^ (la >> DC_BITS)) & (DC_SIZE - 1)];
    if (d->la != (la | 1) || d->code_bits != c->code_bits) {
        return false;
    }
    e = &c->tlb_x[c->cpl == 3][(la >> 12) & (X86_TLB_SIZE - 1)];
    if (e->va_tag != ((la & ~0xfffull) | 1) || !e->host) {
        return false;
    }
    off = (unsigned)(la & 0xfff);
    dc_bytes(e->host + off, off, d->x.len, b);
    if (b[0] != d->b[0] || b[1] != d->b[1]) {
        return false;
    }
    *x = d->x;
    if (d->mem) {
        x->ea = dc_ea(c, d);
    }
    return true;
}

static void dc_store(x86_cpu *c, dc_entry *dc, const x86_insn *x, const fetch_buf *f)
{
    dc_entry *d;
    unsigned off = (unsigned)(f->la & 0xfff);

    if (f->p == f->b || off + x->len > 4096) {
        return; /* copied (MMIO or crossing a page): not kept */
    }
    d = &dc[(f->la ^ (f->la >> DC_BITS)) & (DC_SIZE - 1)];
    d->la = f->la | 1;
    d->code_bits = (uint8_t)c->code_bits;
    dc_bytes(f->p, off, x->len, d->b);
    d->mem = f->mem;
    d->base = f->base;
    d->idx = f->idx;
    d->scale = f->scale;
    d->x = *x;
}

/* Decode (or find the decode of) the instruction at c->rip. */
static bool decode_cached(x86_cpu *c, dc_entry *dc, x86_insn *x, fetch_buf *f)
{
    if (!dc) {
        return decode(c, x, f);
    }
    if (dc_lookup(c, dc, x)) {
        return true;
    }
    if (!decode(c, x, f)) {
        return false;
    }
    dc_store(c, dc, x, f);
    return true;
}

/* This thread's cache (allocated on first use; NULL if that failed). */
static dc_entry *dc_get(void)
{
    if (!dcache) {
        dcache = calloc(DC_SIZE, sizeof(*dcache));
    }
    return dcache;
}

/* One instruction, with the thread's cache looked up by the caller
 * (x86_run does it once per slice). */
static void step(x86_cpu *c, dc_entry *dc)
{
    fetch_buf f;
    x86_insn x;
    bool rf = (c->eflags & F_RF) != 0;

    c->inhibit_irq = false; /* the shadow covers this one instruction */
    c->next_rip = c->rip;
    cur_fetch = &f;
    if (decode_cached(c, dc, &x, &f)) {
        c->next_rip = (c->rip + x.len) & ip_mask(c);
        if (x.rip_relative) {
            x.ea += c->next_rip;
        }
        x86_exec_insn(c, &x);
    }
    /* RF (pushed by faults, restored by IRET) lasts for one completed
     * instruction: the one it was set for. */
    if (rf && !c->fault) {
        c->eflags &= ~(uint64_t)F_RF;
    }
    c->rip = c->next_rip;
    c->fault = false;
    c->exc_depth = 0;
}

void x86_step(x86_cpu *c)
{
    step(c, dc_get());
}

/* No vector requested at the LAPIC: then only the 8259 (ExtINT) can
 * have one, and x86_apic_pending() finds nothing without its INTR. */
static inline bool irr_empty(const x86_lapic *l)
{
    uint32_t any = 0;

    for (int i = 0; i < 8; i++) {
        any |= l->irr[i];
    }
    return any == 0;
}

/* Deliver what may be taken now; true when something was delivered. */
bool x86_take_interrupt(x86_cpu *c)
{
    int v;

    if (c->inhibit_irq) {
        return false;
    }
    if (c->nmi_pending && !c->nmi_blocked) { /* blocked until IRET */
        c->nmi_pending = false;
        v = EXC_NMI;
    } else if ((c->eflags & F_IF) && c->lapic) {
        if (!x86_pic_has_intr() && irr_empty(c->lapic)) {
            return false; /* what x86_apic_pending() would say, cheaply */
        }
        v = x86_apic_pending(c);
        if (v < 0) {
            return false;
        }
        x86_apic_ack(c, v);
    } else {
        return false;
    }
    c->halted_req = false;
    c->next_rip = c->rip;
    x86_interrupt(c, v);
    c->rip = c->next_rip;
    c->fault = false;
    c->exc_depth = 0;
    return true;
}

/* Mode and TLB rebuilt after a direct state write (tests, migration). */
static void refresh_state(x86_cpu *c)
{
    c->state_dirty = false;
    x86_update_mode(c);
    x86_tlb_flush(c, false);
    x86_jit_state_written(c); /* RAM may have been written behind us too */
}

tes_exec_status x86_run(x86_cpu *c, uint64_t budget, uint64_t *executed)
{
    bool log = H->log_enabled(TES_LOG_IN_ASM);
    tes_exec_status st = TES_EXEC_BUDGET;
    dc_entry *dc = dc_get();
    uint64_t n = 0;

    if (c->state_dirty) {
        refresh_state(c);
    }
    /* LAPIC registers belong to the vCPU doing the access. */
    x86_current_cpu = c;
    x86_tlb_check_gen(c); /* a BAR may have moved while we were away */
    /* A debugger's single step (budget 1) is exact only here: blocks
     * check the budget at their entry. So are watchpoints (debug.c). */
    if (c->jit && budget > 1 && !c->gdb.nwp && x86_jit_ready(c)) {
        st = x86_run_jit(c, budget, &n);
        goto out;
    }
    while (n < budget) {
        if (c->wait_sipi) {
            st = TES_EXEC_HALT;
            break;
        }
        if (__builtin_expect(!c->gdb.noirq, 1)) {
            x86_take_interrupt(c);
        }
        if (c->halted_req) {
            st = TES_EXEC_HALT; /* HLT: sleep until has_work */
            break;
        }
        if (__builtin_expect(c->gdb.nbp != 0, 0) && gdb_bp_hit(&c->gdb, c->rip)) {
            st = TES_EXEC_DEBUG; /* before the instruction (debug.c) */
            break;
        }
        if (log) {
            H->log(TES_LOG_IN_ASM, "cpu%u %04x:%016" PRIx64 "\n", c->index,
                   c->seg[S_CS].sel, c->rip);
        }
        step(c, dc);
        n++;
        if (__builtin_expect(c->gdb.wp_hit, 0)) {
            c->gdb.wp_hit = false; /* a watchpoint: after the instruction */
            st = TES_EXEC_DEBUG;
            break;
        }
    }
out:
    c->insn_count += n;
    x86_current_cpu = NULL;
    if (executed) {
        *executed = n;
    }
    return st;
}
