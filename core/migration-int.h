/*
 * tessera core: private interfaces between migration.c (streams, the
 * stream format) and migration-transport.c (URIs, migrate/incoming).
 * Nothing outside these two files, the harness and tests/unit/test-migration.c
 * uses it.
 */
#ifndef TESSERA_MIGRATION_INT_H
#define TESSERA_MIGRATION_INT_H

#include <sys/types.h>

#include "core.h"

/* An fd stream whose other end is a child process (exec: transport):
 * stream_close() also reaps it and fails unless it exited with status 0. */
tes_stream *stream_new_fd_child(int fd, bool writing, pid_t child);

/* Make an fd stream wait in poll(), non-blocking: for at most timeout_ms
 * (0: no limit) without progress, then -ETIMEDOUT; and not at all once
 * cancel_fd (-1: none) is readable, then -ECANCELED. The migration thread
 * uses this so that a stalled peer or migrate_cancel ends its I/O. */
void stream_set_limits(tes_stream *s, int cancel_fd, int timeout_ms);

/* dev_state_load() with a message instead of a stderr line. */
int dev_state_load_err(tes_device *dev, tes_stream *s, uint32_t version, char **errp);

/* Open the stream of a transport URI (exec:, file:, fd:, tcp:, unix:).
 * Outgoing connects; incoming tcp:/unix: listens and blocks in accept(),
 * which only the asynchronous path of migrate_incoming() avoids. */
tes_stream *transport_open_out(const char *uri, char **errp);
tes_stream *transport_open_in(const char *uri, char **errp);

/* The PAUSED section: written when the outgoing side says the guest was
 * stopped before the migration began; read back after a load (the
 * destination then stays paused instead of autostarting). */
void migration_set_source_paused(bool paused);
bool migration_loaded_paused(void);

/* ---- RAM pre-copy (migration-ram.c) and what it needs of migration.c ---- */

typedef struct ram_entry {
    tes_region *r;
    char *id;
    bool seen; /* load: its section was in the stream */
} ram_entry;

#define MIG_PAGE 4096u

void mig_put_u8(tes_stream *s, uint8_t v);
void mig_put_u32(tes_stream *s, uint32_t v);
void mig_put_u64(tes_stream *s, uint64_t v);
void mig_put_str(tes_stream *s, const char *str);
uint64_t mig_get_u64(tes_stream *s);
uint32_t mig_get_u32(tes_stream *s);
char *mig_get_str(tes_stream *s);
/* RAM regions with their stream ids (ram_entry), and their RAM sections. */
GPtrArray *mig_ram_list(void);
int mig_ram_load_section(tes_stream *s, GPtrArray *list, uint32_t version, char **errp);
ram_entry *mig_ram_find(GPtrArray *list, const char *id);
/* A region's RAM section; returns its pages sent (not zero). Live (sent
 * set), runs of at most 1 MiB, each reported to sent(opaque, bytes). */
uint64_t mig_ram_save_full(tes_stream *s, ram_entry *e,
                           void (*sent)(void *opaque, uint64_t bytes), void *opaque);
uint64_t mig_ram_digest(uint64_t h, uint64_t start, uint32_t count, const uint8_t *p, size_t len);
bool mig_stream_cancelled(tes_stream *s);
uint64_t mig_ram_write_run(tes_stream *s, uint64_t h, uint64_t start, uint32_t count,
                           const uint8_t *p, size_t len);
void mig_stream_flush(tes_stream *s);
void mig_write_header(tes_stream *s);
int migration_save_tail(tes_stream *s, void (*final_ram)(tes_stream *, void *), void *opaque,
                        char **errp);

/* RAM_DIRTY section body (the tag read): 0, or -errno with *errp. */
int ram_dirty_load(tes_stream *s, GPtrArray *list, char **errp);

/* Live migration of s: header and RAM while the guest runs, rounds of
 * dirty pages until the rest fits the downtime limit; then stop_cb stops
 * the guest (machine lock held) and the tail goes out. 0 or -errno. */
int ram_live_save(tes_stream *s, void (*stop_cb)(void), char **errp);
/* migrate-set-parameters / query-migrate (machine lock held). */
bool ram_set_param(const char *name, int64_t v, char **errp);
int64_t ram_get_param(const char *name);
void ram_stats_json(void *json_object, bool completed); /* JsonObject * */
void ram_stats_reset(void);

#endif
