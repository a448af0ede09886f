/*
 * The monitor's input commands (input-qmp.c): QMP send-key and
 * input-send-event, HMP sendkey, and the key tables behind them
 * (input-keys.c).
 */
#ifndef TESSERA_CORE_INPUT_QMP_H
#define TESSERA_CORE_INPUT_QMP_H

#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stdint.h>

struct qmp_client;

/* QEMU key name ("ctrl", "a", "kp_enter") or key number (set 1, 0xe0
 * prefix folded as 0x80 | code) to a Linux KEY_* code; -1 if unknown. */
int input_qcode_to_linux(const char *name);
int input_qnum_to_linux(int64_t qnum);

/* QMP commands (core lock held), qmp.c's table signature. */
JsonNode *qmp_send_key(JsonObject *args, struct qmp_client *c, char **err);
JsonNode *qmp_input_send_event(JsonObject *args, struct qmp_client *c, char **err);
/* HMP "sendkey ctrl-alt-f1 [hold_ms]": false with the reason in *err. */
bool hmp_sendkey(const char *arg, char **err);

#endif
