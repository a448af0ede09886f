/*
 * board-x86: the end of the DSDT q35 and pc write the same way (aml.h
 * x86_dsdt_sb_end): what each machine puts first in \_SB (its PCI host
 * bridges, pc's PIRQ links) stays in its own acpi.c.
 */
#include "aml.h"
#include "cpu-hotplug.h"
#include "mem-hotplug.h"
#include "nvdimm-acpi.h"

void x86_dsdt_sb_end(aml *a, size_t sb, const x86_acpi_devs *d, unsigned slp_s3,
                     unsigned slp_s5)
{
    aml_dsdt_com1(a);
    if (d->cpuhp) {
        x86_cpuhp_aml(a, d->cpuhp, d->numa && d->numa->nodes ? d->numa->cpu_node : NULL);
    } else {
        aml_dsdt_cpus(a, d->ncpus);
    }
    if (d->nvdimm) {
        x86_dsdt_nvdimm(a, d->nvd, d->nnvd);
    }
    x86_dsdt_memhp(a, d->mem_slots);
    aml_close_pkg(a, sb);
    x86_dsdt_memhp_gpe(a, d->mem_slots);
    aml_dsdt_sleep(a, "\\_S3", slp_s3);
    aml_dsdt_s5(a, slp_s5);
    if (d->cpuhp) {
        x86_cpuhp_aml_gpe(a); /* \_GPE._E02 */
    }
}
