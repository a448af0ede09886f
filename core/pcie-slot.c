/*
 * tessera core: PCI Express native hot-plug of a port's slot (PCIe Base
 * 4.0, sections 6.7 and 7.5.3.9-7.5.3.11), what Linux pciehp drives.
 *
 * Every root and switch downstream port has a hot-plug capable slot with
 * an attention button, a power controller, power and attention indicators
 * and command completed events (no "No Command Completed Support": QEMU's
 * ports raise Command Completed too, and pciehp waits for it, 1 s per
 * Slot Control write otherwise).
 *
 * The sequence is QEMU's, so guests behave as they do there:
 *   device_add bus=PORT   the device is realized on the secondary bus,
 *                         Presence Detect State and Data Link Layer Link
 *                         Active go up, and Presence Detect Changed,
 *                         Attention Button Pressed and Data Link Layer
 *                         State Changed are raised: pciehp powers the slot
 *                         on and enumerates it.
 *   device_del            Attention Button Pressed: pciehp blinks the power
 *                         indicator for 5 s (the user's time to cancel),
 *                         unbinds the driver, switches Power Controller
 *                         Control off, then the power indicator off. On
 *                         the Slot Control write that leaves the slot
 *                         powered off (both) while it is occupied, every
 *                         device behind the port is unrealized and freed
 *                         and DEVICE_DELETED is sent for each; presence
 *                         and link go down with Presence Detect Changed and
 *                         Data Link Layer State Changed.
 *   device_del of a device in a slot already powered off (the guest never
 *   switched it on) unplugs at once, without a round trip to the guest.
 *
 * A guest that switches a busy slot off is a surprise removal: the
 * devices' unrealize drains what they have in flight (the block layer
 * completes it into the image) before they are freed.
 *
 * Interrupts (6.7.3.4): an event is pending while Hot-Plug Interrupt
 * Enable is set and a status bit is set with its enable. With MSI or MSI-X
 * the port sends the message of the Interrupt Message Number when the
 * pending condition goes from false to true; with INTx, INTA# follows it.
 */
#include <string.h>

#include "core-trace.h"
#include "pci-internal.h"

#define EXP_FLAGS 0x02
#define EXP_LNKCAP 0x0c
#define EXP_LNKSTA 0x12
#define EXP_SLTCAP 0x14
#define EXP_SLTCTL 0x18
#define EXP_SLTSTA 0x1a

#define FLAGS_IRQ_SHIFT 9
#define FLAGS_IRQ_MASK 0x1f
#define LNKCAP_DLLLARC 0x00100000
#define LNKSTA_DLLLA 0x2000

#define SLTCAP_HPC 0x00000040

#define SLTCTL_ABPE 0x0001
#define SLTCTL_PDCE 0x0008
#define SLTCTL_CCIE 0x0010
#define SLTCTL_HPIE 0x0020
#define SLTCTL_AIC 0x00c0
#define SLTCTL_AIC_OFF 0x00c0
#define SLTCTL_PIC 0x0300
#define SLTCTL_PIC_ON 0x0100
#define SLTCTL_PIC_BLINK 0x0200
#define SLTCTL_PIC_OFF 0x0300
#define SLTCTL_PCC 0x0400 /* set: power off */
#define SLTCTL_DLLSCE 0x1000

#define SLTSTA_ABP 0x0001
#define SLTSTA_PDC 0x0008
#define SLTSTA_CC 0x0010
#define SLTSTA_PDS 0x0040
#define SLTSTA_EIS 0x0080
#define SLTSTA_DLLSC 0x0100

static uint8_t *exp_cap(struct pci_function *f)
{
    return f->config + f->pcie_off;
}

static bool hotplug_slot(const struct pci_function *f)
{
    return f && f->pcie_off && pcie_has_slot(f) &&
           (cfg_get32(f->config + f->pcie_off + EXP_SLTCAP) & SLTCAP_HPC);
}

/* Hot-plug events pending towards the guest (6.7.3.4). */
static bool events_pending(struct pci_function *f)
{
    uint16_t ctl = cfg_get16(exp_cap(f) + EXP_SLTCTL);
    uint16_t sta = cfg_get16(exp_cap(f) + EXP_SLTSTA);
    uint16_t ev = 0;

    if (!(ctl & SLTCTL_HPIE)) {
        return false;
    }
    ev |= (ctl & SLTCTL_ABPE) && (sta & SLTSTA_ABP);
    ev |= (ctl & SLTCTL_PDCE) && (sta & SLTSTA_PDC);
    ev |= (ctl & SLTCTL_CCIE) && (sta & SLTSTA_CC);
    ev |= (ctl & SLTCTL_DLLSCE) && (sta & SLTSTA_DLLSC);
    return ev != 0;
}

/* Re-evaluate the pending condition: a rising edge sends the MSI (the
 * guest clears every status bit before a new message can come, as Linux
 * pciehp's interrupt handler expects); INTx follows the level. */
static void slot_notify(struct pci_function *f)
{
    bool now = events_pending(f);
    bool was = f->hp_pending;
    unsigned vector = (cfg_get16(exp_cap(f) + EXP_FLAGS) >> FLAGS_IRQ_SHIFT) & FLAGS_IRQ_MASK;

    f->hp_pending = now;
    if (pci_msix_enabled(f->dev) || pci_msi_enabled(f->dev)) {
        if (now && !was) {
            pci_notify(f->dev, vector);
        }
        return;
    }
    if (now != was || f->intx_level != now) {
        pci_set_irq(f->dev, now);
    }
}

static void slot_event(struct pci_function *f, uint16_t bits)
{
    uint8_t *c = exp_cap(f);

    cfg_set16(c + EXP_SLTSTA, cfg_get16(c + EXP_SLTSTA) | bits);
    slot_notify(f);
}

static bool occupied(const struct pci_function *f)
{
    for (unsigned i = 0; f->secondary && i < 256; i++) {
        if (f->secondary->devs[i]) {
            return true;
        }
    }
    return false;
}

/* Until the guest first writes Slot Control (after power-on or reset), an
 * occupied slot is powered with its power indicator on and an empty one
 * is off, as firmware leaves them (QEMU's reset rule). Cold-plugged
 * devices come after their port is realized, hence the update from
 * pcie_port_update_presence(). */
void pcie_slot_power_default(struct pci_function *f)
{
    uint8_t *c;
    uint16_t ctl;

    if (!f || !f->pcie_off || !pcie_has_slot(f) || f->slot_touched) {
        return;
    }
    c = exp_cap(f);
    ctl = cfg_get16(c + EXP_SLTCTL) & ~(SLTCTL_PIC | SLTCTL_PCC);
    ctl |= occupied(f) ? SLTCTL_PIC_ON : (SLTCTL_PIC_OFF | SLTCTL_PCC);
    cfg_set16(c + EXP_SLTCTL, ctl);
}

/* Slot Control after reset: events disabled, attention indicator off,
 * power as pcie_slot_power_default() says; no event pending. */
void pcie_slot_reset(struct pci_function *f)
{
    uint8_t *c;

    if (!f || !f->pcie_off || !pcie_has_slot(f)) {
        return;
    }
    c = exp_cap(f);
    cfg_set16(c + EXP_SLTCTL, SLTCTL_AIC_OFF);
    f->slot_touched = false;
    pcie_slot_power_default(f);
    cfg_set16(c + EXP_SLTSTA, cfg_get16(c + EXP_SLTSTA) &
                                  ~(SLTSTA_ABP | SLTSTA_PDC | SLTSTA_CC | SLTSTA_EIS |
                                    SLTSTA_DLLSC));
    f->hp_pending = false;
    if (!pci_msi_enabled(f->dev) && !pci_msix_enabled(f->dev) && f->intx_level) {
        pci_set_irq(f->dev, 0);
    }
}

/* After an incoming migration: the pending condition as the stream left
 * it, without a new message. */
void pcie_slot_loaded(struct pci_function *f)
{
    if (hotplug_slot(f)) {
        f->hp_pending = events_pending(f);
    }
}

static bool powered_off(uint16_t ctl)
{
    return (ctl & SLTCTL_PCC) && (ctl & SLTCTL_PIC) == SLTCTL_PIC_OFF;
}

static void free_one(tes_device *d)
{
    g_autofree char *id = g_strdup(d->id);
    g_autofree char *name = g_strdup(d->name);

    dev_free(d);
    qmp_event_device_deleted(id, name);
}

/* Every device behind the port goes (QEMU: pcie_cap_slot_do_unplug);
 * presence and link go down with their change events. */
static void slot_unplug_all(struct pci_function *f)
{
    tes_bus *sec = f->secondary ? f->secondary->bus : NULL;
    uint8_t *c = exp_cap(f);
    uint16_t ev = SLTSTA_PDC;

    while (sec && sec->children->len) {
        free_one(g_ptr_array_index(sec->children, sec->children->len - 1));
    }
    pcie_port_update_presence(f);
    if (cfg_get32(c + EXP_LNKCAP) & LNKCAP_DLLLARC) {
        cfg_set16(c + EXP_LNKSTA, cfg_get16(c + EXP_LNKSTA) & ~LNKSTA_DLLLA);
        ev |= SLTSTA_DLLSC;
    }
    cfg_set16(c + EXP_SLTSTA, cfg_get16(c + EXP_SLTSTA) | ev);
}

/* QEMU's words for an indicator control field (00 reserved). */
static const char *indicator(uint16_t field)
{
    static const char *const names[] = {"reserved", "on", "blink", "off"};

    return names[field & 3];
}

static const char *slot_child(const struct pci_function *f)
{
    for (unsigned i = 0; f->secondary && i < 256; i++) {
        if (f->secondary->devs[i]) {
            return f->secondary->devs[i]->dev->name;
        }
    }
    return "(null)";
}

static void trace_slot_command(struct pci_function *f, uint16_t old_ctl, uint16_t ctl)
{
    trace_pcie_cap_slot_write_config(
        f->dev->name, slot_child(f),
        (cfg_get16(exp_cap(f) + EXP_SLTSTA) & SLTSTA_PDS) ? "present" : "not present",
        indicator((old_ctl & SLTCTL_PIC) >> 8), indicator((ctl & SLTCTL_PIC) >> 8),
        indicator((old_ctl & SLTCTL_AIC) >> 6), indicator((ctl & SLTCTL_AIC) >> 6),
        (old_ctl & SLTCTL_PCC) ? "off" : "on", (ctl & SLTCTL_PCC) ? "off" : "on");
}

/* The guest wrote the PCIe capability: a Slot Control write is a command
 * (Command Completed follows at once), a Slot Status write cleared events. */
void pcie_slot_written(struct pci_function *f, uint32_t off, unsigned len, uint16_t old_ctl)
{
    unsigned ctl_off = f->pcie_off + EXP_SLTCTL, sta_off = f->pcie_off + EXP_SLTSTA;
    uint16_t ctl;

    if (!hotplug_slot(f) || off + len <= ctl_off || off >= sta_off + 2) {
        return;
    }
    ctl = cfg_get16(exp_cap(f) + EXP_SLTCTL);
    if (off < sta_off) {
        trace_slot_command(f, old_ctl, ctl);
        f->slot_touched = true;
        if (occupied(f) && powered_off(ctl) && !powered_off(old_ctl)) {
            slot_unplug_all(f);
        }
        cfg_set16(exp_cap(f) + EXP_SLTSTA, cfg_get16(exp_cap(f) + EXP_SLTSTA) | SLTSTA_CC);
    }
    slot_notify(f);
}

/* ---- device_add / device_del on a port's secondary bus ---- */

bool pci_bus_hotpluggable(tes_bus *bus)
{
    return bus && bus->pci && hotplug_slot(bus->pci->bridge);
}

void pcie_slot_plugged(tes_device *dev)
{
    struct pci_function *f = dev && dev->pci ? dev->pci->bus->bridge : NULL;
    uint16_t ev = SLTSTA_PDC | SLTSTA_ABP;

    if (!hotplug_slot(f)) {
        return;
    }
    pcie_port_update_presence(f);
    if (cfg_get32(exp_cap(f) + EXP_LNKCAP) & LNKCAP_DLLLARC) {
        ev |= SLTSTA_DLLSC;
    }
    slot_event(f, ev);
}

bool pcie_slot_unplug_request(tes_device *dev, char **errp)
{
    struct pci_function *f = dev && dev->pci ? dev->pci->bus->bridge : NULL;
    uint16_t ctl;

    if (!hotplug_slot(f)) {
        core_set_error(errp, "Bus '%s' does not support hotplugging",
                       dev && dev->bus ? dev->bus->name : "?");
        return false;
    }
    ctl = cfg_get16(exp_cap(f) + EXP_SLTCTL);
    if ((ctl & SLTCTL_PIC) == SLTCTL_PIC_BLINK) {
        /* pciehp's 5 s of blinking: another press would cancel it. */
        core_set_error(errp, "Hot-unplug failed: guest is busy (power indicator blinking)");
        return false;
    }
    if (powered_off(ctl)) {
        /* Nobody drives the slot: no round trip to the guest. */
        slot_unplug_all(f);
        slot_notify(f);
        return true;
    }
    slot_event(f, SLTSTA_ABP);
    return true;
}
