/*
 * board-pc: the i440FX host bridge of the `pc` machine: the PCI host
 * (config mechanism #1, root bus "pci.0") and its function 00.0, the
 * 82441FX PMC with the PAM registers that decide what the CPU sees at
 * 0xc0000..0xfffff (shadow RAM or the BIOS ROM on the PCI side).
 *
 * User manual (the pc machine creates both; they take no user options)
 *
 *   i440FX-pcihost  root bus "pci.0" (QEMU's name, so -device
 *                   e1000,bus=pci.0,addr=0x3 carries over; "ID.0" when
 *                   the host bridge has id=ID, as QEMU names a bus
 *                   under a device with an id); config cycles
 *                   through 0xcf8/0xcfc (CONFIG_ADDRESS with the enable
 *                   bit 31, byte/word/dword data at 0xcfc..0xcff), a byte
 *                   at 0xcf9 is the PIIX3's reset control register
 *                   (pci-conf.c: bit 2 resets the machine). Memory BARs map
 *                   into x86_pci_host_mem at their bus address (the
 *                   machine maps the windows 1:1); I/O BARs into the
 *                   system I/O space. INTx is the PIIX3's (pc-platform).
 *                   Property bios-shadowed (bool, default off) is passed
 *                   to the function below.
 *   i440FX          8086:1237 rev 2 host bridge at 00.0. PAM0..PAM6
 *                   (0x59..0x5f, i440FX datasheet 3.2.18): per segment
 *                   (0xf0000 64 KiB in PAM0 bits 5:4; 0xc0000..0xeffff in
 *                   16 KiB pieces, PAM1 bits 1:0 the first, bits 5:4 the
 *                   next, ...) RE (bit 0 of the field: reads from RAM) and
 *                   WE (bit 1: writes to RAM); otherwise reads come from
 *                   the BIOS ROM and writes are dropped (the PCI side has
 *                   nothing writable there). Reserved bits read 0. Reset
 *                   value 0: everything on the ROM, as QEMU's pc before
 *                   its firmware runs. bios-shadowed=on: at reset, copy the
 *                   ROM into shadow RAM and program PAM as SeaBIOS leaves
 *                   it (0xf0000 read-only RAM, 0xc0000..0xeffff read/write
 *                   RAM): the state a kernel finds after the firmware,
 *                   which the pc machine (no firmware) uses. SMRAM (0x72)
 *                   stores D_OPEN, D_CLS, D_LCK and G_SMRAME (C_BASE_SEG
 *                   reads 010b); D_LCK makes D_OPEN, D_LCK and G_SMRAME
 *                   read-only until reset. There is no SMM: 0xa0000 stays
 *                   RAM whatever SMRAM says.
 *
 * The shadow RAM is whatever RAM is mapped at 0xc0000..0xfffff when the
 * function is realized (the machine's RAM); the BIOS ROM (256 KiB,
 * i440fx_pcihost_bios) is also mapped at 4 GiB - 256 KiB like QEMU's
 * pc.bios. The segments are board-q35's pam.c, as for q35's mch.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pam.h"
#include "pc.h"
#include "pci-conf.h"
#include "x86-trace.h"

#define I440FX_PAM 0x59
#define I440FX_SMRAM 0x72
#define SMRAM_C_BASE_SEG 0x02
#define SMRAM_D_OPEN 0x40
#define SMRAM_D_LCK 0x10
#define SMRAM_G_SMRAME 0x08
#define SMRAM_WMASK 0x78

typedef struct i440fx {
    tes_device *dev;
    bool bios_shadowed;
    uint8_t *rom;    /* the PCI side, 0xc0000.. */
    x86_pam pam;     /* the segments (board-q35/pam.c, shared with q35's mch) */
} i440fx;

static void pam_trace(unsigned seg, unsigned mode)
{
    trace_i440fx_pam_update(seg, mode);
}

static void fn_config_write(tes_device *dev, void *s, uint32_t off, uint32_t val, unsigned len)
{
    i440fx *f = s;
    uint8_t *cfg = H->pci_config(dev);
    uint8_t smram = cfg[I440FX_SMRAM];

    H->pci_default_config_write(dev, off, val, len);
    if ((smram & SMRAM_D_LCK) && off <= I440FX_SMRAM && off + len > I440FX_SMRAM) {
        /* D_LCK: D_OPEN, D_LCK and G_SMRAME are read-only until reset */
        uint8_t keep = SMRAM_D_OPEN | SMRAM_D_LCK | SMRAM_G_SMRAME;
        cfg[I440FX_SMRAM] = (uint8_t)((cfg[I440FX_SMRAM] & ~keep) | (smram & keep));
    }
    if (off < I440FX_PAM + X86_PAM_REGS && off + len > I440FX_PAM) {
        x86_pam_update(&f->pam);
    }
}

/* bios-shadowed: the state SeaBIOS (fw/shadow.c) leaves with no option
 * ROMs, the BIOS copied into RAM (x86_pam_shadow). */
static void fn_reset(tes_device *dev, void *s)
{
    i440fx *f = s;
    uint8_t *cfg = H->pci_config(dev);

    memset(cfg + I440FX_PAM, 0, X86_PAM_REGS);
    cfg[I440FX_SMRAM] = SMRAM_C_BASE_SEG;
    x86_pam_update(&f->pam);
    if (f->bios_shadowed) {
        x86_pam_shadow(&f->pam);
    }
}

static int fn_realize(tes_device *dev, void *s)
{
    i440fx *f = s;
    tes_region *rom = H->region_new_rom(dev, "pc.bios", PC_BIOS_AREA_SIZE);
    int ret;

    f->dev = dev;
    f->rom = rom ? H->region_ram_ptr(rom) : NULL;
    if (!f->rom) {
        H->error(dev, "cannot allocate the %llu KiB BIOS ROM",
                 (unsigned long long)(PC_BIOS_AREA_SIZE >> 10));
        return -ENOMEM;
    }
    H->region_add(H->system_memory(), PC_BIOS_ROM_HIGH, rom, 0);
    f->pam = (x86_pam){.host = H, .dev = dev, .reg = I440FX_PAM, .rom = f->rom,
                       .trace = pam_trace};
    ret = x86_pam_init(&f->pam);
    if (ret) {
        return ret;
    }
    H->pci_wmask(dev)[I440FX_SMRAM] = SMRAM_WMASK;
    fn_reset(dev, s);
    return 0;
}

/* PAM and SMRAM migrate with config space; the map follows them. */
static int fn_post_load(tes_device *dev, void *s, uint32_t version)
{
    x86_pam_update(&((i440fx *)s)->pam);
    return 0;
}

static const tes_prop_info fn_props[] = {
    TES_PROP("bios-shadowed", TES_PROP_BOOL, i440fx, bios_shadowed, "off", 0, 0,
             "at reset, copy the BIOS ROM into shadow RAM and program PAM as the "
             "firmware leaves it"),
    TES_PROP_END,
};

static const tes_state_info fn_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .post_load = fn_post_load,
};

static const tes_pci_info fn_pci = {
    .size = sizeof(tes_pci_info),
    .vendor_id = 0x8086,
    .device_id = 0x1237,
    .subsystem_vendor_id = 0x1af4,
    .subsystem_id = 0x1100,
    .revision = 2,
    .class_id = 0x0600,
    .config_write = fn_config_write,
};

const tes_type_info i440fx_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "i440FX",
    .flags = TES_TYPE_NO_USER, /* created by its host bridge */
    .desc = "i440FX host bridge function 00.0: PAM shadow RAM control (created by -M pc)",
    .bus = TES_BUS_PCI,
    .instance_size = sizeof(i440fx),
    .props = fn_props,
    .realize = fn_realize,
    .reset = fn_reset,
    .state = &fn_state,
    .class_info = &fn_pci,
};

/* ---- the PCI host ---- */

typedef struct i440fx_host {
    /* First: pci-conf.h's x86_pci_host_* take the state as it. */
    x86_pci_conf conf; /* 0xcf8/0xcfc and the reset control at 0xcf9 */
    tes_device *dev;
    bool bios_shadowed;
    tes_device *fn;
} i440fx_host;

/* QEMU's name of a root bus left unnamed: "<id>.0" under a host with an
 * id, else "pci.0" (the pc machine's, which gives none). */
static void bus_name(tes_device *dev, char *buf, size_t len)
{
    const char *id = H->dev_given_id(dev);

    snprintf(buf, len, "%s.0", id && *id ? id : "pci");
}

static int host_realize(tes_device *dev, void *s)
{
    i440fx_host *h = s;
    char name[80];
    int ret;

    h->dev = dev;
    h->conf = (x86_pci_conf){.host = H, .name = "i440FX"};
    bus_name(dev, name, sizeof(name));
    ret = x86_pci_conf_root(&h->conf, dev, "pci-mem", name);
    if (ret) {
        return ret;
    }
    h->fn = H->dev_create(dev, h->conf.bus, "i440FX",
                          h->bios_shadowed ? "addr=00.0,bios-shadowed=on" : "addr=00.0");
    return h->fn ? 0 : -ENODEV;
}

uint8_t *i440fx_pcihost_bios(tes_device *dev)
{
    i440fx_host *h = H->dev_state(dev);

    return ((i440fx *)H->dev_state(h->fn))->rom;
}

static const tes_prop_info host_props[] = {
    TES_PROP("bios-shadowed", TES_PROP_BOOL, i440fx_host, bios_shadowed, "off", 0, 0,
             "the i440FX function's bios-shadowed"),
    TES_PROP_END,
};

const tes_type_info i440fx_pcihost_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "i440FX-pcihost",
    .flags = TES_TYPE_NO_USER, /* created by its board */
    .desc = "i440FX PCI host bridge: pci.0, 0xcf8/0xcfc (created by -M pc)",
    .bus = TES_BUS_SYSTEM,
    .instance_size = sizeof(i440fx_host),
    .props = host_props,
    .realize = host_realize,
    .reset = x86_pci_host_reset,
    .state = &x86_pci_host_state,
};
