/* placeholder, replaced below */
#include "gicv3.h"
uint64_t gicv3_its_read(void *opaque, uint64_t off, unsigned size) { return 0; }
void gicv3_its_write(void *opaque, uint64_t off, uint64_t val, unsigned size) {}
void gicv3_its_reset(gicv3 *g) {}
