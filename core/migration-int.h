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

#endif
