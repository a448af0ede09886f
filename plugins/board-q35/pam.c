/*
 * board-x86: PAM segments (pam.h), shared by the host bridges.
 */
#include <errno.h>
#include <string.h>

#include "pam.h"

static const uint8_t pam_wmask[X86_PAM_REGS] = {0x30, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33};

/* Segment 0 is 0xf0000 (64 KiB); 1..12 are 0xc0000 + 16 KiB * (i - 1). */
static uint64_t seg_base(unsigned i)
{
    return i == 0 ? 0xf0000 : X86_PAM_BASE + 0x4000ull * (i - 1);
}

static uint64_t seg_size(unsigned i)
{
    return i == 0 ? 0x10000 : 0x4000;
}

unsigned x86_pam_mode(const x86_pam *p, unsigned i)
{
    const uint8_t *cfg = p->host->pci_config(p->dev) + p->reg;

    if (i == 0) {
        return cfg[0] >> 4 & 3;
    }
    return cfg[1 + (i - 1) / 2] >> ((i - 1) & 1 ? 4 : 0) & 3;
}

/* Tell the core (dirty tracking, translated code) that RAM under segment
 * s changed: as_set_dirty resolves through the map, so the RAM must be
 * visible for the call. */
static void seg_dirty(x86_pam_seg *s, uint64_t addr, uint64_t len)
{
    const tes_host *H = s->p->host;

    if (s->mapped) {
        H->region_set_enabled(s->r, false);
    }
    H->as_set_dirty(H->system_memory(), addr, len);
    if (s->mapped) {
        H->region_set_enabled(s->r, true);
    }
}

static uint64_t seg_read(void *opaque, uint64_t off, unsigned size)
{
    x86_pam_seg *s = opaque;
    uint64_t a = seg_base(s->idx) + off - X86_PAM_BASE;
    const uint8_t *src = x86_pam_mode(s->p, s->idx) & X86_PAM_RE ? s->p->ram : s->p->rom;
    uint64_t v = 0;

    if (off + size > seg_size(s->idx)) {
        return 0; /* the core splits accesses at region ends: not reached */
    }
    if (!src) {
        return size >= 8 ? UINT64_MAX : (1ull << (8 * size)) - 1; /* nothing decodes */
    }
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)src[a + i] << (8 * i);
    }
    return v;
}

static void seg_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    x86_pam_seg *s = opaque;
    uint64_t a = seg_base(s->idx) + off - X86_PAM_BASE;

    if (!(x86_pam_mode(s->p, s->idx) & X86_PAM_WE) || off + size > seg_size(s->idx)) {
        return; /* to the PCI side: the ROM takes no writes */
    }
    for (unsigned i = 0; i < size; i++) {
        s->p->ram[a + i] = (uint8_t)(val >> (8 * i));
    }
    seg_dirty(s, seg_base(s->idx) + off, size);
}

static const tes_mem_ops seg_ops = {
    .size = sizeof(tes_mem_ops),
    .read = seg_read,
    .write = seg_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 8,
    .impl_min = 1, .impl_max = 8,
};

void x86_pam_update(x86_pam *p)
{
    for (unsigned i = 0; i < X86_PAM_SEGS; i++) {
        bool mapped = x86_pam_mode(p, i) != (X86_PAM_RE | X86_PAM_WE);
        if (mapped != p->seg[i].mapped) {
            if (p->trace) {
                p->trace(i, x86_pam_mode(p, i));
            }
            p->seg[i].mapped = mapped;
            p->host->region_set_enabled(p->seg[i].r, mapped);
        }
    }
}

void x86_pam_shadow(x86_pam *p)
{
    uint8_t *cfg = p->host->pci_config(p->dev) + p->reg;

    if (p->rom) {
        memcpy(p->ram, p->rom, X86_PAM_SIZE);
    }
    cfg[0] = X86_PAM_RE << 4;
    memset(cfg + 1, (X86_PAM_RE | X86_PAM_WE) * 0x11, X86_PAM_REGS - 1);
    x86_pam_update(p);
    for (unsigned i = 0; i < X86_PAM_SEGS && p->rom; i++) {
        seg_dirty(&p->seg[i], seg_base(i), seg_size(i));
    }
}

int x86_pam_init(x86_pam *p)
{
    const tes_host *H = p->host;
    tes_region *sys = H->system_memory();
    uint64_t len = X86_PAM_SIZE;

    /* The RAM under the overlays: found before they are added. */
    p->ram = H->as_ram_ptr(sys, X86_PAM_BASE, &len, true);
    if (!p->ram || len < X86_PAM_SIZE) {
        H->error(p->dev, "no RAM at 0xc0000..0xfffff to shadow the BIOS area into");
        return -ENODEV;
    }
    for (unsigned i = 0; i < X86_PAM_SEGS; i++) {
        x86_pam_seg *s = &p->seg[i];
        s->p = p;
        s->idx = i;
        s->r = H->region_new_io(p->dev, "pam", seg_size(i), &seg_ops, s);
        if (!s->r) {
            H->error(p->dev, "cannot create the PAM regions");
            return -ENOMEM;
        }
        H->region_add(sys, seg_base(i), s->r, 1);
        s->mapped = true;
    }
    memcpy(H->pci_wmask(p->dev) + p->reg, pam_wmask, X86_PAM_REGS);
    return 0;
}
