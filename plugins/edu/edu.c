/*
 * edu: an educational PCI device, register-compatible with QEMU's "edu"
 * (docs/specs/edu.rst in QEMU), so the same teaching drivers work.
 *
 * User manual
 *
 *   tessera ... -device edu[,dma_mask=MASK][,addr=SLOT][,id=ID]
 *
 *   dma_mask  (u64, default 0x0fffffff) bus addresses the DMA engine can
 *             reach; addresses with higher bits set are clamped (and logged
 *             under -d guest_errors).
 *
 * PCI 1234:11e8, class 0x00ff, INTA#, one MSI vector. BAR0: 1 MiB MMIO,
 * 4-byte accesses (8 bytes allowed from 0x80 on):
 *
 *   0x00 RO  identification 0x010000ed (major 1, minor 0)
 *   0x04 RW  card liveness: reads the bitwise inverse of the last write
 *   0x08 RW  factorial: write n (while not computing); 1 us of virtual time
 *            later the register holds n! (mod 2^32) and status bit 0 clears
 *   0x20 RW  status: bit 0 computing (RO), bit 7 raise irq 0x1 when the
 *            factorial completes
 *   0x24 RO  interrupt status
 *   0x60 WO  raise interrupt: bits ORed into interrupt status
 *   0x64 WO  acknowledge: bits cleared from interrupt status; INTx drops
 *            when it reaches 0
 *   0x80 RW  DMA source address        0x88 RW  DMA destination address
 *   0x90 RW  DMA count                 0x98 RW  DMA command: bit 0 start,
 *            bit 1 direction (0 RAM -> buffer, 1 buffer -> RAM), bit 2
 *            raise irq 0x100 when done. The transfer completes 1 us later.
 *
 * The 4 KiB device buffer sits at device address 0x40000: the DMA side that
 * is not RAM must lie inside [0x40000, 0x41000). Interrupts go by MSI when
 * the guest enabled it, else INTx (level: high while status is non-zero).
 * Guest mistakes are logged under -d guest_errors and otherwise ignored.
 * Migrates everything, including the pending factorial and DMA.
 */
#include <errno.h>
#include <string.h>
#include <tessera/tessera.h>

#define EDU_BAR_SIZE 0x100000
#define EDU_BUF_ADDR 0x40000
#define EDU_BUF_SIZE 4096
#define EDU_DELAY_NS 1000 /* both the factorial and the DMA take 1 us */

#define ST_COMPUTING 0x01
#define ST_IRQFACT 0x80
#define DMA_START 0x1
#define DMA_TO_RAM 0x2
#define DMA_IRQ 0x4
#define IRQ_FACT 0x00000001
#define IRQ_DMA 0x00000100

typedef struct edu {
    tes_device *dev;
    tes_timer *fact_timer, *dma_timer;
    uint64_t dma_mask;
    uint32_t liveness, fact, status, irq_status;
    uint64_t dma_src, dma_dst, dma_cnt, dma_cmd;
    int64_t fact_deadline, dma_deadline; /* -1: none; only valid in the stream */
    uint8_t buf[EDU_BUF_SIZE];
} edu;

static const tes_host *H;

/* Trace points (sdk trace.h): registers and interrupts. */
#define TES_TRACE_TABLE edu_trace_events
#define TES_TRACE_HOST H
#define EDU_TRACE(E)                                                                           \
    TES_TRACE_RW(E, edu_mmio_read, edu_mmio_write)                                             \
    E(edu_irq_raise, (uint32_t status, int msi), (status, msi), "status 0x%" PRIx32 " msi %d") \
    E(edu_irq_lower, (uint32_t status), (status), "status 0x%" PRIx32)
TES_TRACE_DECLARE(EDU_TRACE)
TES_TRACE_DEFINE(EDU_TRACE)

static void raise_irq(edu *e, uint32_t bits)
{
    e->irq_status |= bits;
    if (!e->irq_status) {
        return;
    }
    /* QEMU's edu: one MSI per raise; INTx is a level held while status != 0. */
    trace_edu_irq_raise(e->irq_status, H->pci_msi_enabled(e->dev));
    if (H->pci_msi_enabled(e->dev)) {
        H->pci_notify(e->dev, 0);
    } else {
        H->pci_set_irq(e->dev, 1);
    }
}

static void ack_irq(edu *e, uint32_t bits)
{
    e->irq_status &= ~bits;
    trace_edu_irq_lower(e->irq_status);
    if (!e->irq_status && !H->pci_msi_enabled(e->dev)) {
        H->pci_set_irq(e->dev, 0);
    }
}

/* n! mod 2^32. From 34 on, n! holds 2^32 (34! has 17 + 8 + 4 + 2 + 1 = 32
 * factors of two) and the result is 0: looping up to a guest's n of 4
 * billion would stall the emulator for seconds. */
#define FACT_ZERO_FROM 34

static void fact_done(void *opaque)
{
    edu *e = opaque;
    uint32_t r = e->fact >= FACT_ZERO_FROM ? 0 : 1;

    for (uint32_t n = e->fact; r && n > 1; n--) {
        r *= n;
    }
    e->fact = r;
    e->status &= ~ST_COMPUTING;
    if (e->status & ST_IRQFACT) {
        raise_irq(e, IRQ_FACT);
    }
}

/* Is [addr, addr + len) inside the device buffer? Written not to overflow. */
static bool in_buffer(uint64_t addr, uint64_t len)
{
    return addr >= EDU_BUF_ADDR && len <= EDU_BUF_SIZE &&
           addr - EDU_BUF_ADDR <= EDU_BUF_SIZE - len;
}

static uint64_t clamp(edu *e, uint64_t addr)
{
    if (addr & ~e->dma_mask) {
        H->log(TES_LOG_GUEST_ERROR, "edu: clamping DMA address 0x%llx to dma_mask 0x%llx",
               (unsigned long long)addr, (unsigned long long)e->dma_mask);
    }
    return addr & e->dma_mask;
}

static void dma_done(void *opaque)
{
    edu *e = opaque;
    bool to_ram = e->dma_cmd & DMA_TO_RAM;
    uint64_t dev_addr = to_ram ? e->dma_src : e->dma_dst;
    uint64_t ram_addr = clamp(e, to_ram ? e->dma_dst : e->dma_src);

    if (!in_buffer(dev_addr, e->dma_cnt)) {
        H->log(TES_LOG_GUEST_ERROR,
               "edu: DMA of 0x%llx bytes at device address 0x%llx is outside the buffer "
               "[0x%x, 0x%x); ignored", (unsigned long long)e->dma_cnt,
               (unsigned long long)dev_addr, EDU_BUF_ADDR, EDU_BUF_ADDR + EDU_BUF_SIZE);
    } else if (to_ram) {
        H->dma_write(e->dev, ram_addr, e->buf + (dev_addr - EDU_BUF_ADDR), e->dma_cnt);
    } else {
        H->dma_read(e->dev, ram_addr, e->buf + (dev_addr - EDU_BUF_ADDR), e->dma_cnt);
    }
    e->dma_cmd &= ~(uint64_t)DMA_START;
    if (e->dma_cmd & DMA_IRQ) {
        raise_irq(e, IRQ_DMA);
    }
}

static uint64_t *dma_reg(edu *e, uint64_t off)
{
    switch (off & ~7ull) {
    case 0x80: return &e->dma_src;
    case 0x88: return &e->dma_dst;
    case 0x90: return &e->dma_cnt;
    case 0x98: return &e->dma_cmd;
    }
    return NULL;
}

static uint64_t edu_read(void *opaque, uint64_t off, unsigned size)
{
    edu *e = opaque;
    uint64_t *reg = dma_reg(e, off);

    if (size != 4 && !(size == 8 && reg && !(off & 7))) {
        H->log(TES_LOG_GUEST_ERROR, "edu: %u-byte read at 0x%llx", size,
               (unsigned long long)off);
        return ~0ull;
    }
    if (reg) {
        return size == 8 ? *reg : (uint32_t)(*reg >> (8 * (off & 4)));
    }
    switch (off) {
    case 0x00: return 0x010000ed;
    case 0x04: return ~e->liveness;
    case 0x08: return e->fact;
    case 0x20: return e->status;
    case 0x24: return e->irq_status;
    }
    H->log(TES_LOG_GUEST_ERROR, "edu: read of unknown register 0x%llx", (unsigned long long)off);
    return ~0ull;
}

static void write_dma_reg(edu *e, uint64_t *reg, uint64_t off, uint64_t val, unsigned size)
{
    if (e->dma_cmd & DMA_START) {
        H->log(TES_LOG_GUEST_ERROR, "edu: DMA register 0x%llx written during a transfer",
               (unsigned long long)off);
        return;
    }
    if (size == 8) {
        *reg = val;
    } else {
        unsigned sh = 8 * (off & 4);
        *reg = (*reg & ~(0xffffffffull << sh)) | ((val & 0xffffffffull) << sh);
    }
    if (reg == &e->dma_cmd && (e->dma_cmd & DMA_START)) {
        H->timer_mod(e->dma_timer, H->clock_ns() + EDU_DELAY_NS);
    }
}

static void write_fact(edu *e, uint32_t val)
{
    if (e->status & ST_COMPUTING) {
        H->log(TES_LOG_GUEST_ERROR, "edu: factorial written while computing");
        return;
    }
    e->fact = val;
    e->status |= ST_COMPUTING;
    H->timer_mod(e->fact_timer, H->clock_ns() + EDU_DELAY_NS);
}

static void edu_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    edu *e = opaque;
    uint64_t *reg = dma_reg(e, off);

    if (size != 4 && !(size == 8 && reg && !(off & 7))) {
        H->log(TES_LOG_GUEST_ERROR, "edu: %u-byte write at 0x%llx", size,
               (unsigned long long)off);
        return;
    }
    if (reg) {
        write_dma_reg(e, reg, off, val, size);
        return;
    }
    switch (off) {
    case 0x04: e->liveness = val; break;
    case 0x08: write_fact(e, val); break;
    case 0x20: e->status = (e->status & ~ST_IRQFACT) | (val & ST_IRQFACT); break;
    case 0x60: raise_irq(e, val); break;
    case 0x64: ack_irq(e, val); break;
    default:
        H->log(TES_LOG_GUEST_ERROR, "edu: write of 0x%llx to %s register 0x%llx",
               (unsigned long long)val, off == 0 || off == 0x24 ? "read-only" : "unknown",
               (unsigned long long)off);
    }
}

TES_TRACE_RW_WRAP(edu, edu_read, edu_write, edu_mmio_read, edu_mmio_write)

static const tes_mem_ops edu_ops = {
    .size = sizeof(tes_mem_ops),
    .read = edu_traced_read,
    .write = edu_traced_write,
    .endian = TES_ENDIAN_LITTLE,
    .valid_min = 1, .valid_max = 8,
    .impl_min = 1, .impl_max = 8, /* sizes are checked above, as QEMU does */
};

static int edu_realize(tes_device *dev, void *s)
{
    edu *e = s;
    tes_region *bar = H->region_new_io(dev, "edu-mmio", EDU_BAR_SIZE, &edu_ops, e);
    int ret;

    e->dev = dev;
    ret = H->pci_register_bar(dev, 0, TES_PCI_BAR_MEM32, bar);
    if (ret < 0) {
        H->error(dev, "cannot register BAR0 (%d)", ret);
        return ret;
    }
    ret = H->pci_msi_init(dev, 0, 1, true, false);
    if (ret < 0) {
        H->error(dev, "cannot add the MSI capability (%d)", ret);
        return ret;
    }
    e->fact_timer = H->timer_new(fact_done, e);
    e->dma_timer = H->timer_new(dma_done, e);
    return 0;
}

static void edu_unrealize(tes_device *dev, void *s)
{
    edu *e = s;

    H->timer_free(e->fact_timer);
    H->timer_free(e->dma_timer);
}

static void edu_reset(tes_device *dev, void *s)
{
    edu *e = s;

    H->timer_del(e->fact_timer);
    H->timer_del(e->dma_timer);
    e->liveness = e->fact = e->status = e->irq_status = 0;
    e->dma_src = e->dma_dst = e->dma_cnt = e->dma_cmd = 0;
    memset(e->buf, 0, sizeof(e->buf));
    H->pci_set_irq(dev, 0);
}

static int edu_pre_save(tes_device *dev, void *s)
{
    edu *e = s;

    e->fact_deadline = H->timer_expire(e->fact_timer);
    e->dma_deadline = H->timer_expire(e->dma_timer);
    return 0;
}

/* A pending timer was armed at most EDU_DELAY_NS ahead of a clock that
 * has not gone back; a status bit no write sets is not from a guest. */
static bool deadline_ok(int64_t deadline)
{
    return deadline >= 0 && deadline <= H->clock_ns() + EDU_DELAY_NS;
}

static int edu_state_check(edu *e)
{
    if (e->status & ~(uint32_t)(ST_COMPUTING | ST_IRQFACT)) {
        H->error(e->dev, "status 0x%x in the stream has unknown bits", e->status);
        return -EINVAL;
    }
    if (((e->status & ST_COMPUTING) && !deadline_ok(e->fact_deadline)) ||
        ((e->dma_cmd & DMA_START) && !deadline_ok(e->dma_deadline))) {
        H->error(e->dev, "timer deadlines %lld/%lld ns in the stream are not within %d ns "
                 "of the clock (%lld ns)", (long long)e->fact_deadline,
                 (long long)e->dma_deadline, EDU_DELAY_NS, (long long)H->clock_ns());
        return -EINVAL;
    }
    return 0;
}

/* Deadlines are absolute virtual times; the clock migrates with the machine. */
static int edu_post_load(tes_device *dev, void *s, uint32_t version)
{
    edu *e = s;

    if (edu_state_check(e)) {
        return -EINVAL;
    }

    if (e->fact_deadline >= 0 && (e->status & ST_COMPUTING)) {
        H->timer_mod(e->fact_timer, e->fact_deadline);
    }
    if (e->dma_deadline >= 0 && (e->dma_cmd & DMA_START)) {
        H->timer_mod(e->dma_timer, e->dma_deadline);
    }
    return 0;
}

static const tes_state_field edu_fields[] = {
    TES_FIELD_U32(edu, liveness),
    TES_FIELD_U32(edu, fact),
    TES_FIELD_U32(edu, status),
    TES_FIELD_U32(edu, irq_status),
    TES_FIELD_U64(edu, dma_src),
    TES_FIELD_U64(edu, dma_dst),
    TES_FIELD_U64(edu, dma_cnt),
    TES_FIELD_U64(edu, dma_cmd),
    TES_FIELD_I64(edu, fact_deadline),
    TES_FIELD_I64(edu, dma_deadline),
    TES_FIELD_BYTES(edu, buf),
    TES_FIELD_END,
};

static const tes_state_info edu_state = {
    .size = sizeof(tes_state_info),
    .version = 1,
    .min_version = 1,
    .fields = edu_fields,
    .pre_save = edu_pre_save,
    .post_load = edu_post_load,
};

static const tes_prop_info edu_props[] = {
    TES_PROP("dma_mask", TES_PROP_U64, edu, dma_mask, "0x0fffffff", 0, 0,
             "bus address bits the DMA engine drives"),
    TES_PROP_END,
};

static const tes_pci_info edu_pci = {
    .size = sizeof(tes_pci_info),
    .vendor_id = 0x1234,
    .device_id = 0x11e8,
    .revision = 0x10,
    .class_id = 0x00ff,
    .irq_pin = 1,
};

static const tes_type_info edu_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "edu",
    .desc = "educational PCI device (factorial, DMA, interrupts)",
    .bus = TES_BUS_PCI,
    .instance_size = sizeof(edu),
    .props = edu_props,
    .realize = edu_realize,
    .unrealize = edu_unrealize,
    .reset = edu_reset,
    .state = &edu_state,
    .class_info = &edu_pci,
};

static int edu_plugin_init(const tes_host *host)
{
    H = host;
    return TES_TRACE_REGISTER(host);
}

static const tes_type_info *const edu_types[] = {&edu_type, NULL};

TES_PLUGIN_DEFINE(.name = "edu", .version = "0.1.0", .license = "MIT",
                  .desc = "educational PCI device", .types = edu_types,
                  .init = edu_plugin_init);
