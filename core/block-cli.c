/*
 * tessera core: the interfaces of -drive, and -hda..-hdd, -cdrom, as QEMU
 * maps them (blockdev.c drive_new() in QEMU, for facts).
 *
 *   -drive file=F,if=ide|virtio|scsi|none[,index=I|,bus=B,unit=U][,media=disk|cdrom]
 *   -hda F  = -drive file=F,index=0,media=disk (-hdb 1, -hdc 2, -hdd 3)
 *   -cdrom F = -drive file=F,index=2,media=cdrom
 *
 * A drive without if= takes the board's default interface
 * (tes_machine_ops.default_block_if, ABI 1.4: ide on pc and q35, virtio on
 * virt; none for older boards). if=ide index I is bus ide.(I / U), unit
 * I % U, U being the board's IDE units per bus (2 on pc, 1 on q35's AHCI);
 * without index=, bus= (default 0) and unit= (default: the first free one,
 * on to the next bus when a bus is full) place it. The drive then gets
 * QEMU's name when it has no id= ("ide0-hd0", "ide1-cd0", "virtio0") and
 * its device is created with it: ide-hd or ide-cd (ata plugin) on
 * bus=ide.B,unit=U, or virtio-blk-pci. if=none drives are opened at once,
 * as before; the others wait for the machine (drive_cli_attach_all), which
 * says what the default is and has created the IDE buses.
 *
 * Only the keys above are ours: every other key goes to drive_add()
 * (block.c) untouched, with if=none and the id added.
 */
#include <string.h>

#include "core.h"

typedef struct drive_req {
    char *iface;         /* NULL: the board's default */
    int index, bus, unit; /* -1: not given */
    bool cdrom;
    bool has_file, has_ro;
    char *id;            /* NULL until placed: QEMU's name then */
    GString *rest;       /* the other keys, escaped again */
} drive_req;

static GPtrArray *pending; /* optargs waiting for the machine */
static GPtrArray *taken;   /* "IF BUS UNIT" of every placed drive */

/* QEMU's interface names; those tessera has no device for are refused. */
static const char *const known_ifs[] = {"ide", "scsi", "floppy", "pflash", "mtd", "sd",
                                        "virtio", "xen", "none"};

void drive_opts_append(GString *s, const char *key, const char *val)
{
    g_string_append_printf(s, "%s%s=", s->len ? "," : "", key);
    for (const char *p = val; *p; p++) {
        g_string_append_c(s, *p);
        if (*p == ',') {
            g_string_append_c(s, ','); /* ",," is a literal comma */
        }
    }
}

static bool parse_num(const char *key, const char *val, int *out, char **errp)
{
    char *end;
    guint64 v = g_ascii_strtoull(val, &end, 10);

    if (end == val || *end || v > 1000) {
        core_set_error(errp, "drive: %s=%s is invalid (expected a number 0..1000)", key, val);
        return false;
    }
    *out = (int)v;
    return true;
}

static bool parse_iface(drive_req *r, const char *val, char **errp)
{
    for (size_t i = 0; i < G_N_ELEMENTS(known_ifs); i++) {
        if (strcmp(val, known_ifs[i]) == 0) {
            g_free(r->iface);
            r->iface = g_strdup(val);
            return true;
        }
    }
    core_set_error(errp, "drive: unsupported bus type '%s' (expected ide, virtio, scsi or none)",
                   val);
    return false;
}

/* One "key=value" of the -drive; false on a bad value of one of ours. */
static bool parse_item(drive_req *r, const char *key, const char *val, char **errp)
{
    if (!strcmp(key, "if")) {
        return parse_iface(r, val, errp);
    } else if (!strcmp(key, "index")) {
        return parse_num(key, val, &r->index, errp);
    } else if (!strcmp(key, "bus")) {
        return parse_num(key, val, &r->bus, errp);
    } else if (!strcmp(key, "unit")) {
        return parse_num(key, val, &r->unit, errp);
    } else if (!strcmp(key, "media")) {
        if (strcmp(val, "disk") != 0 && strcmp(val, "cdrom") != 0) {
            core_set_error(errp, "drive: media=%s is invalid (expected disk or cdrom)", val);
            return false;
        }
        r->cdrom = strcmp(val, "cdrom") == 0;
        return true;
    } else if (!strcmp(key, "id")) {
        g_free(r->id);
        r->id = g_strdup(val);
        return true;
    }
    r->has_file |= !strcmp(key, "file");
    r->has_ro |= !strcmp(key, "readonly") || !strcmp(key, "read-only");
    drive_opts_append(r->rest, key, val);
    return true;
}

static void req_clear(drive_req *r)
{
    g_free(r->iface);
    g_free(r->id);
    if (r->rest) {
        g_string_free(r->rest, TRUE);
    }
}

static bool req_parse(const char *optarg, drive_req *r, char **errp)
{
    GPtrArray *items = drive_split_opts(optarg);
    bool ok = true;

    memset(r, 0, sizeof(*r));
    r->index = r->bus = r->unit = -1;
    r->rest = g_string_new(NULL);
    for (guint i = 0; i < items->len && ok; i++) {
        char *item = g_ptr_array_index(items, i);
        char *eq = strchr(item, '=');

        if (!eq) {
            /* block.c says what is wrong with it */
            g_string_append_printf(r->rest, "%s%s", r->rest->len ? "," : "", item);
            continue;
        }
        *eq = '\0';
        ok = parse_item(r, item, eq + 1, errp);
    }
    g_ptr_array_free(items, TRUE);
    if (ok && r->index >= 0 && (r->bus > 0 || r->unit >= 0)) {
        core_set_error(errp, "drive: index cannot be used with bus and unit");
        ok = false;
    }
    return ok;
}

/* ---- placement ---- */

static bool slot_taken(const char *iface, int bus, int unit)
{
    g_autofree char *key = g_strdup_printf("%s %d %d", iface, bus, unit);

    for (guint i = 0; taken && i < taken->len; i++) {
        if (!strcmp(g_ptr_array_index(taken, i), key)) {
            return true;
        }
    }
    return false;
}

/* QEMU's units per bus of an interface: IDE's from the board (QEMU's 2
 * when it has none, so that the refusal names the unit QEMU would),
 * SCSI's 7; 0 for the others: unit is then the index. */
static int max_units(const char *iface, unsigned ide_units)
{
    if (!strcmp(iface, "ide")) {
        return ide_units ? (int)ide_units : 2;
    }
    return !strcmp(iface, "scsi") ? 7 : 0;
}

/* Bus and unit from index= or bus=/unit=, then QEMU's name. */
static bool req_place(drive_req *r, unsigned ide_units, char **errp)
{
    int max = max_units(r->iface, ide_units);
    int bus = r->bus < 0 ? 0 : r->bus, unit = r->unit;

    if (r->index >= 0) {
        bus = max ? r->index / max : 0;
        unit = max ? r->index % max : r->index;
    }
    if (unit < 0) {
        for (unit = 0; slot_taken(r->iface, bus, unit);) {
            if (max && ++unit >= max) {
                unit = 0;
                bus++;
            } else if (!max) {
                unit++;
            }
        }
    }
    if (max && unit >= max) {
        core_set_error(errp, "drive: unit %d too big (max is %d)", unit, max - 1);
        return false;
    }
    if (slot_taken(r->iface, bus, unit)) {
        core_set_error(errp, "drive: a drive with if=%s,bus=%d,unit=%d (index=%d) exists",
                       r->iface, bus, unit, max ? bus * max + unit : unit);
        return false;
    }
    r->bus = bus;
    r->unit = unit;
    if (!r->id && strcmp(r->iface, "none") != 0) {
        const char *media = !strcmp(r->iface, "ide") || !strcmp(r->iface, "scsi")
                            ? (r->cdrom ? "-cd" : "-hd") : "";
        r->id = max ? g_strdup_printf("%s%d%s%d", r->iface, bus, media, unit)
                    : g_strdup_printf("%s%s%d", r->iface, media, unit);
    }
    return true;
}

/* The interface, or why the board cannot take the drive. */
static bool req_iface(drive_req *r, const char *default_if, unsigned ide_units, char **errp)
{
    if (!r->iface) {
        r->iface = g_strdup(default_if ? default_if : "none");
        if (!strcmp(r->iface, "none") && !r->id) {
            core_set_error(errp, "drive: this machine has no default disk interface (use "
                           "if=none,id=ID with a -device, or if=virtio)");
            return false;
        }
    }
    if (!strcmp(r->iface, "scsi")) {
        core_set_error(errp, "drive: if=scsi is not supported yet (tessera has no SCSI "
                       "controller): use if=none,id=ID with -device virtio-blk-pci or nvme");
        return false;
    }
    if (strcmp(r->iface, "ide") != 0 && strcmp(r->iface, "virtio") != 0 &&
        strcmp(r->iface, "none") != 0) {
        core_set_error(errp, "drive: if=%s is not supported by tessera (expected ide, virtio "
                       "or none)", r->iface);
        return false;
    }
    return true;
}

/* What drive_add() gets (a cdrom drive without file= is an empty drive
 * that the monitor can give a medium later). */
static char *req_drive_opts(drive_req *r)
{
    GString *s;

    s = g_string_new(r->rest->str);
    drive_opts_append(s, "if", "none");
    if (r->id) {
        drive_opts_append(s, "id", r->id);
    }
    if (r->cdrom && !r->has_ro) {
        drive_opts_append(s, "readonly", "on"); /* QEMU: a CD-ROM is read-only */
    }
    return g_string_free(s, FALSE);
}

/* The -device that takes the drive; NULL for if=none. */
static char *req_device(drive_req *r)
{
    GString *s;

    if (!strcmp(r->iface, "none")) {
        return NULL;
    }
    s = g_string_new(!strcmp(r->iface, "virtio") ? "virtio-blk-pci"
                     : r->cdrom ? "ide-cd" : "ide-hd");
    drive_opts_append(s, "drive", r->id);
    if (!strcmp(r->iface, "ide")) {
        g_string_append_printf(s, ",bus=ide.%d,unit=%d", r->bus, r->unit);
    }
    return g_string_free(s, FALSE);
}

void drive_if_reset(void)
{
    g_clear_pointer(&taken, g_ptr_array_unref);
    g_clear_pointer(&pending, g_ptr_array_unref);
}

bool drive_if_plan(const char *optarg, const char *default_if, unsigned ide_units,
                   drive_plan *out, char **errp)
{
    drive_req r;
    bool ok = req_parse(optarg, &r, errp) && req_iface(&r, default_if, ide_units, errp) &&
              req_place(&r, ide_units, errp);

    memset(out, 0, sizeof(*out));
    if (ok && !strcmp(r.iface, "ide") && ide_units == 0) {
        /* QEMU's drive_check_orphaned() line */
        core_set_error(errp, "machine type does not support if=ide,bus=%d,unit=%d", r.bus,
                       r.unit);
        ok = false;
    }
    if (ok) {
        if (!taken) {
            taken = g_ptr_array_new_with_free_func(g_free);
        }
        g_ptr_array_add(taken, g_strdup_printf("%s %d %d", r.iface, r.bus, r.unit));
        out->drive_opts = req_drive_opts(&r);
        out->device = req_device(&r);
        out->ide_bus = !strcmp(r.iface, "ide") ? r.bus : -1;
        out->ide_unit = r.unit;
    }
    req_clear(&r);
    return ok;
}

void drive_plan_clear(drive_plan *p)
{
    g_clear_pointer(&p->drive_opts, g_free);
    g_clear_pointer(&p->device, g_free);
}

/* ---- the command line ---- */

/* -drive (and -hda...): if=none now, the others once the machine exists. */
bool drive_cli_add(const char *optarg, char **errp)
{
    drive_req r;
    drive_plan p;
    bool now, ok;

    if (!req_parse(optarg, &r, errp)) {
        req_clear(&r);
        return false;
    }
    now = r.iface && !strcmp(r.iface, "none");
    req_clear(&r);
    if (!now) {
        if (!pending) {
            pending = g_ptr_array_new_with_free_func(g_free);
        }
        g_ptr_array_add(pending, g_strdup(optarg));
        return true;
    }
    ok = drive_if_plan(optarg, "none", 0, &p, errp) &&
         (!p.drive_opts || drive_add(p.drive_opts, errp));
    drive_plan_clear(&p);
    return ok;
}

/* An IDE drive's bus must exist once its device type does (without the
 * type, dev_create_cli says "unknown device" in the core's words). */
static bool ide_bus_ok(const drive_plan *p, char **errp)
{
    g_autofree char *type = g_strndup(p->device, strcspn(p->device, ","));
    g_autofree char *bus = g_strdup_printf("ide.%d", p->ide_bus);

    if (!type_lookup(type, TES_KIND_DEVICE, NULL) || bus_find(bus)) {
        return true;
    }
    core_set_error(errp, "machine type does not support if=ide,bus=%d,unit=%d", p->ide_bus,
                   p->ide_unit);
    return false;
}

/* Open the drive and create its device (planned already). */
static bool attach_one(const drive_plan *p, char **errp)
{
    bool printed = false;

    return (p->ide_bus < 0 || ide_bus_ok(p, errp)) &&
           (!p->drive_opts || drive_add(p->drive_opts, errp)) &&
           (!p->device || dev_create_cli(p->device, &printed, errp));
}

/* Every place is checked before anything is opened: a taken index is
 * reported as such, not as the first drive's missing device. */
bool drive_cli_attach_all(char **errp)
{
    guint n = pending ? pending->len : 0;
    drive_plan *plans = g_new0(drive_plan, n + 1);
    bool ok = true;

    for (guint i = 0; i < n && ok; i++) {
        ok = drive_if_plan(g_ptr_array_index(pending, i), machine_default_block_if(),
                           machine_ide_units_per_bus(), &plans[i], errp);
    }
    for (guint i = 0; i < n && ok; i++) {
        ok = attach_one(&plans[i], errp);
    }
    for (guint i = 0; i < n; i++) {
        drive_plan_clear(&plans[i]);
    }
    g_free(plans);
    g_clear_pointer(&pending, g_ptr_array_unref);
    return ok;
}

/* Our keys, then block.c's on what drive_add() would get. */
bool drive_cli_check(const char *optarg, char **errp)
{
    drive_req r;
    char *opts = NULL;
    bool ok = req_parse(optarg, &r, errp);

    if (ok && !r.id) {
        r.id = g_strdup("check0");
    }
    if (ok && r.iface) {
        ok = req_iface(&r, "none", 0, errp);
    }
    if (ok && (opts = req_drive_opts(&r))) {
        ok = drive_opts_check(opts, errp);
    }
    g_free(opts);
    req_clear(&r);
    return ok;
}
