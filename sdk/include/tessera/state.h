/*
 * tessera SDK: migration state.
 *
 * A device declares its state as a field table (offsets into its instance)
 * with a state version and the oldest version it can still load; save/load
 * callbacks carry variable-sized state. The core writes a self-describing
 * stream: each field is recorded with its name, kind and length, so a newer
 * state version can load an older stream (missing fields keep their reset
 * values) and a field's length is checked before it is copied.
 */
#ifndef TESSERA_STATE_H
#define TESSERA_STATE_H

#include <tessera/types.h>

typedef enum tes_field_kind {
    TES_FIELD_BOOL = 1, /* bool */
    TES_FIELD_U8,
    TES_FIELD_U16,
    TES_FIELD_U32,
    TES_FIELD_U64,
    TES_FIELD_I64,
    TES_FIELD_BYTES, /* raw bytes, count = length */
} tes_field_kind;

typedef struct tes_state_field {
    const char *name;
    tes_field_kind kind;
    size_t offset;          /* into the device instance */
    uint32_t count;         /* array length (elements); 0 means 1 */
    uint32_t since_version; /* first state version with this field */
} tes_state_field;

#define TES_FIELD(st, f, k) {#f, k, offsetof(st, f), 0, 0}
#define TES_FIELD_ARRAY(st, f, k, n) {#f, k, offsetof(st, f), (n), 0}
#define TES_FIELD_BOOL(st, f) TES_FIELD(st, f, TES_FIELD_BOOL)
#define TES_FIELD_U8(st, f) TES_FIELD(st, f, TES_FIELD_U8)
#define TES_FIELD_U16(st, f) TES_FIELD(st, f, TES_FIELD_U16)
#define TES_FIELD_U32(st, f) TES_FIELD(st, f, TES_FIELD_U32)
#define TES_FIELD_U64(st, f) TES_FIELD(st, f, TES_FIELD_U64)
#define TES_FIELD_I64(st, f) TES_FIELD(st, f, TES_FIELD_I64)
#define TES_FIELD_BYTES(st, f) {#f, TES_FIELD_BYTES, offsetof(st, f), sizeof(((st *)0)->f), 0}
#define TES_FIELD_END {NULL, 0, 0, 0, 0}

typedef struct tes_state_info {
    uint32_t size;        /* sizeof(tes_state_info) */
    uint32_t version;     /* state version written */
    uint32_t min_version; /* oldest state version load accepts */
    const tes_state_field *fields; /* ends with TES_FIELD_END; may be NULL */
    /* Optional: before save (quiesce), after load (rebuild derived state).
     * A machine save runs every device's pre_save before it writes any
     * section: what a drain raises in another device is in the stream. */
    int (*pre_save)(tes_device *dev, void *s);
    int (*post_load)(tes_device *dev, void *s, uint32_t version);
    /* Optional variable-sized state, written after the fields. */
    int (*save)(tes_device *dev, void *s, tes_stream *out);
    int (*load)(tes_device *dev, void *s, tes_stream *in, uint32_t version);
} tes_state_info;

#endif
