/*
 * tessera: what a guest watchdog does when it fires (QEMU's
 * system/watchdog.c). A watchdog device (the ICH9 TCO timer of
 * pc-platform's ICH9-LPC) calls host->watchdog_perform_action (ABI 1.9);
 * the core sends QMP WATCHDOG {"action": ...} and acts as
 * -watchdog-action (QMP watchdog-set-action, HMP watchdog_action) says:
 *
 *   reset       the default: system_reset
 *   shutdown    system_powerdown (the ACPI power button)
 *   poweroff    quit: tessera exits with status 0
 *   pause       stop, run state "watchdog" until cont
 *   debug       "watchdog: timer fired" on stderr, nothing else
 *   none        nothing
 *   inject-nmi  an NMI to every x86 vCPU (QEMU's nmi_monitor_handle)
 *
 * The device calls it from its timer callback, under the machine lock and
 * possibly on a vCPU's thread; reset, poweroff and pause therefore only
 * ask the main loop (as QEMU's vmstop request does for pause).
 */
#include <string.h>

#include "core.h"

static const char *const action_names[] = {
    [WDT_RESET] = "reset",       [WDT_SHUTDOWN] = "shutdown", [WDT_POWEROFF] = "poweroff",
    [WDT_PAUSE] = "pause",       [WDT_DEBUG] = "debug",       [WDT_NONE] = "none",
    [WDT_INJECT_NMI] = "inject-nmi",
};

static wdt_action action = WDT_RESET;
static unsigned pause_req;

int watchdog_action_parse(const char *name)
{
    for (size_t i = 0; name && i < G_N_ELEMENTS(action_names); i++) {
        if (strcmp(name, action_names[i]) == 0) {
            return (int)i;
        }
    }
    return -1;
}

bool watchdog_set_action(const char *name, char **errp)
{
    int a = watchdog_action_parse(name);

    if (a < 0) {
        core_set_error(errp, "-watchdog-action: unknown action '%s' (reset, shutdown, "
                       "poweroff, pause, debug, none, inject-nmi)", name ? name : "");
        return false;
    }
    action = (wdt_action)a;
    return true;
}

const char *watchdog_action_name(void)
{
    return action_names[action];
}

static gboolean do_pause(gpointer opaque)
{
    g_atomic_int_set(&pause_req, 0);
    if (runstate_get() == RUN_RUNNING) {
        vm_stop(RUN_WATCHDOG);
    }
    return G_SOURCE_REMOVE;
}

/* QEMU's nmi_monitor_handle on x86: NMI to every vCPU (a rising edge on
 * its NMI line, LINT1's path). Other architectures have no NMI here. */
static void inject_nmi(void)
{
    unsigned n = cpu_count(), done = 0;

    for (unsigned i = 0; i < n; i++) {
        tes_cpu *cpu = cpu_by_index(i);

        if (cpu && cpu->ops->arch && strcmp(cpu->ops->arch, "x86_64") == 0) {
            tes_irq *nmi = cpu_irq_in(cpu, TES_X86_NMI);

            irq_set(nmi, 1);
            irq_set(nmi, 0);
            done++;
        }
    }
    if (!done) {
        core_log(TES_LOG_UNIMP, "watchdog: inject-nmi: no x86 vCPU to take an NMI");
    }
}

void watchdog_perform_action(void)
{
    g_autofree char *data = g_strdup_printf("{\"action\": \"%s\"}", action_names[action]);

    qmp_event_plugin("WATCHDOG", data);
    switch (action) {
    case WDT_RESET:
        core_request_reset();
        break;
    case WDT_SHUTDOWN:
        machine_powerdown();
        break;
    case WDT_POWEROFF:
        core_request_shutdown(0);
        break;
    case WDT_PAUSE:
        if (g_atomic_int_compare_and_exchange(&pause_req, 0, 1)) {
            g_idle_add(do_pause, NULL);
        }
        g_main_context_wakeup(NULL);
        break;
    case WDT_DEBUG:
        fprintf(stderr, "watchdog: timer fired\n");
        break;
    case WDT_NONE:
        break;
    case WDT_INJECT_NMI:
        inject_nmi();
        break;
    }
}
