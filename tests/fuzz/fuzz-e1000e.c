/*
 * Fuzz target: e1000e (82574L, plugins/net) through the harness, with a harness
 * netdev as the network; the actions are fuzz-dev.h's generic ones and
 * fuzz-e1000.h's.
 */
#include "fuzz-e1000.h"

FZ_TARGET(fe_e1000e_target)
