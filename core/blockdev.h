/*
 * tessera core: -blockdev and the block monitor commands (blockdev.c),
 * for main.c, qmp.c and hmp.c.
 */
#ifndef TESSERA_BLOCKDEV_H
#define TESSERA_BLOCKDEV_H

#include <json-glib/json-glib.h>
#include <stdbool.h>

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

#endif
