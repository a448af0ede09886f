/*
 * board-x86: configuration mechanism #1 and the reset control register
 * (see pci-conf.h). CONFIG_ADDRESS takes only dword accesses, so a byte
 * at 0xcf9 is the reset control register; CONFIG_DATA any size.
 */
#include <errno.h>

#include "pci-conf.h"
#include "x86-board.h"

#define CONFIG_ENABLE 0x80000000u
#define CONFIG_ADDR_MASK 0x80fffffcu /* enable, bus, devfn, dword register */
#define RST_CNT_MASK 0x0a          /* SYS_RST, FULL_RST; RST_CPU is an action */

/* RST_CNT / RC: RST_CPU (bit 2) set starts a reset; SYS_RST (bit 1) and
 * FULL_RST (bit 3, ICH9 only) only say which kind (all the same here). */
static void rst_cnt_write(x86_pci_conf *c, uint8_t val)
{
    c->rst_cnt = val & RST_CNT_MASK;
    if (val & 0x04) {
        c->host->request_reset();
    }
}

static uint64_t conf_read(void *opaque, uint64_t off, unsigned size)
{
    x86_pci_conf *c = opaque;
    uint32_t a = c->config_addr;

    if (off == 0 && size == 4) {
        return a;
    }
    if (off == 1 && size == 1) {
        return c->rst_cnt;
    }
    if (off < 4 || !(a & CONFIG_ENABLE)) {
        return (1ull << (8 * size)) - 1;
    }
    return c->host->pci_host_config_read(c->bus, (uint8_t)(a >> 16), (uint8_t)(a >> 8),
                                         (a & 0xfc) | (uint32_t)(off - 4), size);
}

static void conf_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    x86_pci_conf *c = opaque;
    uint32_t a = c->config_addr;

    if (off == 0 && size == 4) {
        c->config_addr = (uint32_t)val & CONFIG_ADDR_MASK;
    } else if (off == 1 && size == 1) {
        rst_cnt_write(c, (uint8_t)val);
    } else if (off >= 4 && (a & CONFIG_ENABLE)) {
        c->host->pci_host_config_write(c->bus, (uint8_t)(a >> 16), (uint8_t)(a >> 8),
                                       (a & 0xfc) | (uint32_t)(off - 4), (uint32_t)val, size);
    } else {
        c->host->log(TES_LOG_GUEST_ERROR, "%s: %u-byte write of 0x%llx to port 0x%llx ignored",
                     c->name, size, (unsigned long long)val, (unsigned long long)(0xcf8 + off));
    }
}

static const tes_mem_ops conf_ops = {
    .size = sizeof(tes_mem_ops),
    .read = conf_read,
    .write = conf_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 4,
    .impl_min = 1, .impl_max = 4,
};

tes_region *x86_pci_conf_region(x86_pci_conf *c, tes_device *owner)
{
    return c->host->region_new_io(owner, "pci-conf", 8, &conf_ops, c);
}

int x86_pci_conf_root(x86_pci_conf *c, tes_device *owner, const char *mem_name,
                      const char *bus_name)
{
    const tes_host *H = c->host;

    c->mem = H->region_new_container(owner, mem_name, UINT64_MAX);
    c->io = x86_pci_conf_region(c, owner);
    if (!c->mem || !c->io) {
        H->error(owner, "cannot create the PCI memory and 0xcf8 regions");
        return -ENOMEM;
    }
    H->region_add(H->system_io(), 0xcf8, c->io, 0);
    c->bus = H->pci_root_bus_new(owner, bus_name, c->mem, H->system_io());
    if (!c->bus) {
        H->error(owner, "cannot create root bus '%s' (name taken?)", bus_name);
        return -EEXIST;
    }
    return 0;
}

void x86_pci_conf_reset(x86_pci_conf *c)
{
    c->config_addr = 0;
    c->rst_cnt = 0;
}

int x86_pci_conf_check(x86_pci_conf *c, tes_device *owner)
{
    if ((c->config_addr & ~CONFIG_ADDR_MASK) || (c->rst_cnt & ~RST_CNT_MASK)) {
        c->host->error(owner, "%s: CONFIG_ADDRESS 0x%x or RST_CNT 0x%x in the stream has "
                       "reserved bits set", c->name, c->config_addr, c->rst_cnt);
        return -EINVAL;
    }
    return 0;
}

void x86_pci_host_reset(tes_device *dev, void *s)
{
    x86_pci_conf_reset(s);
}

static int host_post_load(tes_device *dev, void *s, uint32_t version)
{
    return x86_pci_conf_check(s, dev);
}

static const tes_state_field host_fields[] = {
    TES_FIELD_U32(x86_pci_conf, config_addr),
    TES_FIELD_U8(x86_pci_conf, rst_cnt),
    TES_FIELD_END,
};

const tes_state_info x86_pci_host_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = host_fields,
    .post_load = host_post_load,
};

tes_bus *x86_pci_host_bus(tes_device *host)
{
    return ((x86_pci_conf *)x86_board_host->dev_state(host))->bus;
}

tes_region *x86_pci_host_mem(tes_device *host)
{
    return ((x86_pci_conf *)x86_board_host->dev_state(host))->mem;
}
