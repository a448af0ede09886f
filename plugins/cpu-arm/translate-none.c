/*
 * cpu-arm: the translator's entry points when the build has no code
 * generator (sdk/jit, meson variable jit_dep): everything is interpreted.
 */
#include "arm.h"

bool arm_jit_run(arm_cpu *c, uint64_t budget, uint64_t *done, tes_exec_status *st)
{
    return false;
}

bool arm_jit_page_has_code(const void *host_page)
{
    return false;
}

void arm_jit_code_written(const void *host, size_t len)
{
}

void arm_jit_reset(arm_cpu *c)
{
}

void arm_jit_cpu_free(arm_cpu *c)
{
}

void arm_jit_tlb_flushed(arm_cpu *c)
{
}

void arm_jit_tlb_flushed_page(arm_cpu *c, uint64_t va)
{
}
