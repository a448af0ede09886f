/*
 * tessera core: -blockdev and the block monitor commands (blockdev.c),
 * for main.c, qmp.c and hmp.c.
 */
#ifndef TESSERA_BLOCKDEV_H
#define TESSERA_BLOCKDEV_H

#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <tessera/types.h>

/* -blockdev in its dotted or JSON form; false with one line in *errp. */
bool blockdev_add_cli(const char *optarg, char **errp);
/* -blockdev parsed and its keys checked, nothing opened (fuzz-cli). */
bool blockdev_check(const char *optarg, char **errp);
/* QMP blockdev-add's arguments (the JSON form's object). */
bool blockdev_add_json(JsonObject *o, char **errp);
/* QMP blockdev-del: the monitor's nodes only, refused while in use. */
bool blockdev_del(const char *node_name, char **errp);
/* Forget every node (with drives_close_all: teardown, tests). */
void blockdev_reset(void);
/* QMP query-block and query-blockstats: arrays, one entry per drive. */
JsonNode *block_query(void);
JsonNode *block_query_stats(void);
/* HMP info block, info blockstats. */
void block_info_print(GString *out);
void block_info_stats_print(GString *out);

/* qmp.c: an event with a "data" member (takes data's reference). */
void qmp_event_data(const char *name, JsonObject *data);

/* The name query-block gives a drive: its id, "" for a -blockdev node. */
const char *blockdev_drive_name(tes_drive *d);
/* blockdev-insert-medium: node (a monitor node no one uses) becomes the
 * medium of drive into: its own drive is closed, *opts gets the -drive
 * keys that open it again (g_free). */
bool blockdev_take_medium(const char *node, const char *into, char **opts, char **errp);
/* The medium of drive `from` went: the node it came from (if any) is a
 * drive of its own again. */
void blockdev_return_medium(const char *from);

/* block-media.c: the removable-media monitor commands (QEMU's semantics
 * and error texts); false with one line in *errp. */
typedef struct media_change_args {
    const char *device, *id, *filename, *format, *ro_mode;
    bool force;
} media_change_args;
bool media_open_tray(const char *device, const char *id, bool force, char **errp);
bool media_close_tray(const char *device, const char *id, char **errp);
bool media_remove(const char *id, char **errp);
bool media_insert(const char *id, const char *node, char **errp);
bool media_eject(const char *device, const char *id, bool force, char **errp);
bool media_change(const media_change_args *a, char **errp);
/* query-block's view of a drive. */
bool media_removable(tes_drive *d);
bool media_has_tray(tes_drive *d);
bool media_tray_open(tes_drive *d);
bool media_locked(tes_drive *d);

#endif
