/*
 * tessera core: removable media as the monitor changes them.
 *
 *   QMP  eject {"device"|"id", "force"}
 *        blockdev-open-tray {"device"|"id", "force"}, blockdev-close-tray
 *        blockdev-remove-medium {"id"}, blockdev-insert-medium {"id", "node-name"}
 *        blockdev-change-medium {"device"|"id", "filename", "format",
 *                                "read-only-mode": retain|read-only|read-write, "force"}
 *   HMP  eject [-f] DEVICE, change DEVICE FILE [FORMAT [READ-ONLY-MODE]]
 *   event DEVICE_TRAY_MOVED {"device", "id", "tray-open"}
 *
 * device= is the drive's name (-drive id=, or QEMU's generated "ide1-cd0");
 * id= the device's id (and, for convenience, a drive name too: a device
 * -cdrom made has no id). The device's tes_drive_media_ops (ABI 1.5) say
 * whether it is removable, has a tray, and whether the guest locked it;
 * the order of the steps and the error texts are QEMU's (blockdev.c
 * do_open_tray, blockdev_remove_medium, qmp_blockdev_change_medium), so
 * management tools that parse them keep working. A medium inserted from a
 * -blockdev node closes the node's own drive and gives it back when the
 * medium is removed (blockdev.c, blockdev_take_medium).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "blockdev.h"
#include "core.h"

/* ---- the device's view (QEMU's blk_dev_* helpers) ---- */

static const tes_drive_media_ops *ops_of(tes_drive *d, void **opaque)
{
    return drive_media_ops(d, opaque);
}

/* A drive no device holds is removable (QEMU: an unattached backend). */
static bool is_removable(tes_drive *d)
{
    void *o;
    const tes_drive_media_ops *ops = ops_of(d, &o);

    return !drive_user(d) || (ops && ops->change_media);
}

static bool has_tray(tes_drive *d)
{
    void *o;
    const tes_drive_media_ops *ops = ops_of(d, &o);

    return ops && ops->is_tray_open;
}

static bool tray_is_open(tes_drive *d)
{
    void *o;
    const tes_drive_media_ops *ops = ops_of(d, &o);

    return ops && ops->is_tray_open && ops->is_tray_open(o);
}

static bool is_locked(tes_drive *d)
{
    void *o;
    const tes_drive_media_ops *ops = ops_of(d, &o);

    return ops && ops->is_medium_locked && ops->is_medium_locked(o);
}

bool media_removable(tes_drive *d)
{
    return is_removable(d);
}

bool media_has_tray(tes_drive *d)
{
    return has_tray(d);
}

bool media_tray_open(tes_drive *d)
{
    return tray_is_open(d);
}

bool media_locked(tes_drive *d)
{
    return is_locked(d);
}

/* DEVICE_TRAY_MOVED: device is the drive's name ("" for a -blockdev
 * node), id the device's. */
static void tray_event(tes_drive *d, bool open)
{
    JsonObject *data = json_object_new();

    json_object_set_string_member(data, "device", blockdev_drive_name(d));
    json_object_set_string_member(data, "id", drive_user(d) ? drive_user(d) : "");
    json_object_set_boolean_member(data, "tray-open", open);
    qmp_event_data("DEVICE_TRAY_MOVED", data);
}

/* The guest moved the tray (host->drive_tray_moved). */
void drive_tray_moved(tes_drive *d, bool open)
{
    if (d) {
        tray_event(d, open);
    }
}

/* QEMU's blk_dev_change_media_cb: the event when the tray moved. */
static void change_media(tes_drive *d, bool load)
{
    void *o;
    const tes_drive_media_ops *ops = ops_of(d, &o);
    bool was_open = tray_is_open(d);

    if (!ops || !ops->change_media) {
        return;
    }
    ops->change_media(o, load);
    if (was_open != tray_is_open(d)) {
        tray_event(d, !was_open);
    }
}

/* ---- which drive ---- */

static tes_drive *lookup(const char *device, const char *id, char **errp)
{
    const char *name = id ? id : device;
    tes_drive *d = NULL;

    if (!name) {
        core_set_error(errp, "Either device or id must be specified");
        return NULL;
    }
    if (id) {
        d = drive_by_user(id);
    }
    if (!d) {
        d = drive_find(name);
    }
    if (!d) {
        core_set_error(errp, "Device '%s' not found", name);
    }
    return d;
}

/* ---- the steps ---- */

/* QEMU's do_open_tray: 0 (open, or opened now), -ENOSYS (no tray),
 * -EINPROGRESS (locked: the guest was asked), -ENOTSUP (not removable). */
static int open_tray(tes_drive *d, const char *name, bool force, char **errp)
{
    void *o;
    const tes_drive_media_ops *ops = ops_of(d, &o);
    bool locked;

    if (!is_removable(d)) {
        core_set_error(errp, "Device '%s' is not removable", name);
        return -ENOTSUP;
    }
    if (!has_tray(d)) {
        core_set_error(errp, "Device '%s' does not have a tray", name);
        return -ENOSYS;
    }
    if (tray_is_open(d)) {
        return 0;
    }
    locked = is_locked(d);
    if (locked && ops->eject_request) {
        ops->eject_request(o, force);
    }
    if (!locked || force) {
        change_media(d, false);
    }
    if (locked && !force) {
        core_set_error(errp, "Device '%s' is locked and force was not specified, wait for "
                       "tray to open and try again", name);
        return -EINPROGRESS;
    }
    return 0;
}

static bool remove_medium(tes_drive *d, const char *name, char **errp)
{
    if (!is_removable(d)) {
        core_set_error(errp, "Device '%s' is not removable", name);
        return false;
    }
    if (has_tray(d) && !tray_is_open(d)) {
        core_set_error(errp, "Tray of device '%s' is not open", name);
        return false;
    }
    if (!drive_has_medium(d)) {
        return true;
    }
    drive_medium_close(d);
    blockdev_return_medium(drive_id(d));
    if (!has_tray(d)) {
        change_media(d, false);
    }
    return true;
}

static bool insert_check(tes_drive *d, const char *name, char **errp)
{
    if (!is_removable(d)) {
        core_set_error(errp, "Device '%s' is not removable", name);
        return false;
    }
    if (has_tray(d) && !tray_is_open(d)) {
        core_set_error(errp, "Tray of device '%s' is not open", name);
        return false;
    }
    if (drive_has_medium(d)) {
        core_set_error(errp, "There already is a medium in device '%s'", name);
        return false;
    }
    return true;
}

/* ---- the commands ---- */

bool media_open_tray(const char *device, const char *id, bool force, char **errp)
{
    tes_drive *d = lookup(device, id, errp);
    char *err = NULL;
    int rc;

    if (!d) {
        return false;
    }
    rc = open_tray(d, id ? id : device, force, &err);
    if (rc && rc != -ENOSYS && rc != -EINPROGRESS) {
        *errp = err;
        return false;
    }
    g_free(err);
    return true;
}

bool media_close_tray(const char *device, const char *id, char **errp)
{
    tes_drive *d = lookup(device, id, errp);

    if (!d) {
        return false;
    }
    if (!is_removable(d)) {
        core_set_error(errp, "Device '%s' is not removable", id ? id : device);
        return false;
    }
    if (has_tray(d) && tray_is_open(d)) {
        change_media(d, true);
    }
    return true;
}

bool media_remove(const char *id, char **errp)
{
    tes_drive *d = lookup(NULL, id, errp);

    return d && remove_medium(d, id, errp);
}

bool media_insert(const char *id, const char *node, char **errp)
{
    tes_drive *d = lookup(NULL, id, errp);
    char *opts = NULL;
    bool ok;

    if (!d || !insert_check(d, id, errp)) {
        return false;
    }
    if (!blockdev_take_medium(node, drive_id(d), &opts, errp)) {
        return false;
    }
    ok = drive_medium_open(d, opts, false, errp);
    if (!ok) {
        blockdev_return_medium(drive_id(d));
    }
    g_free(opts);
    if (ok && !has_tray(d)) {
        change_media(d, true);
    }
    return ok;
}

bool media_eject(const char *device, const char *id, bool force, char **errp)
{
    tes_drive *d = lookup(device, id, errp);
    char *err = NULL;
    int rc;

    if (!d) {
        return false;
    }
    rc = open_tray(d, id ? id : device, force, &err);
    if (rc && rc != -ENOSYS) {
        *errp = err;
        return false;
    }
    g_free(err);
    return remove_medium(d, id ? id : device, errp);
}

/* read-only-mode: retain (the drive's present setting), read-only,
 * read-write; -1 for anything else. */
static int ro_mode(tes_drive *d, const char *mode)
{
    if (!mode || !strcmp(mode, "retain")) {
        return drive_readonly(d);
    }
    if (!strcmp(mode, "read-only")) {
        return 1;
    }
    return !strcmp(mode, "read-write") ? 0 : -1;
}

static char *medium_opts(const char *filename, const char *format)
{
    GString *s = g_string_new(NULL);

    drive_opts_append(s, "file", filename);
    if (format) {
        drive_opts_append(s, "format", format);
    }
    return g_string_free(s, FALSE);
}

bool media_change(const media_change_args *a, char **errp)
{
    const char *name = a->id ? a->id : a->device;
    tes_drive *d = lookup(a->device, a->id, errp);
    g_autofree char *opts = NULL;
    char *err = NULL;
    int ro, rc;

    if (!d) {
        return false;
    }
    if ((ro = ro_mode(d, a->ro_mode)) < 0) {
        core_set_error(errp, "Parameter 'read-only-mode' does not accept value '%s'",
                       a->ro_mode);
        return false;
    }
    if (a->format && strcmp(a->format, "raw") != 0 && strcmp(a->format, "qcow2") != 0) {
        core_set_error(errp, "Unknown driver '%s'", a->format);
        return false;
    }
    /* QEMU opens the new medium before touching the old one: refuse an
     * image we cannot open (missing, unreadable, not the format named)
     * while the old medium is still in. */
    if (access(a->filename, ro ? R_OK : R_OK | W_OK) != 0) {
        core_set_error(errp, "Could not open '%s': %s", a->filename, g_strerror(errno));
        return false;
    }
    opts = medium_opts(a->filename, a->format);
    if (!drive_medium_check(d, opts, ro, errp)) {
        return false;
    }
    rc = open_tray(d, name, a->force, &err);
    if (rc && rc != -ENOSYS) {
        *errp = err;
        return false;
    }
    g_free(err);
    if (!remove_medium(d, name, errp)) {
        return false;
    }
    if (!drive_medium_open(d, opts, ro, errp)) {
        return false;
    }
    if (!has_tray(d)) {
        change_media(d, true);
    }
    return media_close_tray(a->device, a->id, errp);
}
