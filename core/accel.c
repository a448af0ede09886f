/*
 * tessera core: the machine lock, run state and the accelerator loop.
 *
 * Like QEMU's single-threaded TCG, ONE vCPU thread runs every vCPU round
 * robin, each for a budget of instructions, taking the machine lock around
 * each exec() call. The GLib main loop (timers, monitors, block and net
 * completions) takes the same lock, so device callbacks never race.
 *
 * Lock order: core_lock() before acc_mutex. acc_mutex guards the
 * pause/stop/kick flags and is never held while taking core_lock().
 */
#include <string.h>

#include "core.h"
#include "gdbstub.h"

/* Instructions per exec() call: short enough that the main loop gets the
 * lock often, long enough that the lock traffic stays cheap. */
#define EXEC_BUDGET 10000
/* Safety net when every vCPU sleeps: a kick normally wakes us first. */
#define IDLE_WAIT_US (10 * 1000)

static GRecMutex machine_lock;
/* Threads other than the vCPU thread waiting for the lock: the vCPU thread
 * steps aside after exec() so that it cannot starve the main loop. */
static gint lock_waiters;
static GThread *vcpu_thread;

static volatile runstate state = RUN_PRELAUNCH;
static gint shutdown_req;     /* 1 when requested */
static gint shutdown_status;
static gint reset_req;
static gint suspend_req;
static gint wakeup_req;
/* Stopped (stop, migration) out of "suspended": cont and the end of a
 * migration go back to "suspended", not "running" (QEMU 9's
 * vm_was_suspended). A reset or wakeup forgets it. */
static bool was_suspended;

static GPtrArray *cpus; /* tes_cpu*, by index */

static GMutex acc_mutex;
static GCond acc_cond;
static bool acc_paused = true; /* vCPUs run only while RUN_RUNNING */
static bool acc_stopping;
static bool kick_pending;

/* ---- the machine lock ---- */

void core_lock(void)
{
    if (g_thread_self() == vcpu_thread) {
        g_rec_mutex_lock(&machine_lock);
        return;
    }
    g_atomic_int_inc(&lock_waiters);
    g_rec_mutex_lock(&machine_lock);
    g_atomic_int_dec_and_test(&lock_waiters);
}

void core_unlock(void)
{
    g_rec_mutex_unlock(&machine_lock);
}

/* ---- run state ---- */

runstate runstate_get(void)
{
    return state;
}

const char *runstate_name(runstate s)
{
    static const char *const names[] = {
        [RUN_PRELAUNCH] = "prelaunch",   [RUN_RUNNING] = "running",
        [RUN_PAUSED] = "paused",         [RUN_INMIGRATE] = "inmigrate",
        [RUN_POSTMIGRATE] = "postmigrate", [RUN_SHUTDOWN] = "shutdown",
        [RUN_SUSPENDED] = "suspended", [RUN_DEBUG] = "debug",
        [RUN_WATCHDOG] = "watchdog",
    };

    if ((unsigned)s >= G_N_ELEMENTS(names) || !names[s]) {
        return "unknown";
    }
    return names[s];
}

void vm_start(void)
{
    core_lock();
    if (state == RUN_RUNNING || state == RUN_SHUTDOWN || state == RUN_SUSPENDED) {
        /* A suspended guest wakes through system_wakeup only, as QEMU's. */
    } else if (was_suspended) {
        /* QEMU 9's vm_resume: back to S3, the vCPUs stay stopped. */
        was_suspended = false;
        state = RUN_SUSPENDED;
        clock_resume();
        qmp_event("RESUME");
    } else {
        state = RUN_RUNNING;
        clock_resume();
        accel_resume();
        qmp_event("RESUME");
    }
    core_unlock();
}

void vm_stop(runstate why)
{
    core_lock();
    if (state == RUN_RUNNING || state == RUN_SUSPENDED) {
        /* QEMU 9's do_vm_stop: from S3 too (the vCPUs are stopped already;
         * the clock, which ran on in S3, stops now). */
        was_suspended = state == RUN_SUSPENDED;
        accel_pause();
        clock_pause();
        state = why;
        qmp_event("STOP");
        gdbstub_vm_stopped();
    } else {
        state = why;
    }
    core_unlock();
}

bool runstate_was_suspended(void)
{
    return was_suspended || state == RUN_SUSPENDED;
}

/* An incoming migration of a suspended guest: its start (cont, or the
 * end of the load) goes to "suspended". */
void runstate_set_suspended(void)
{
    core_lock();
    was_suspended = true;
    core_unlock();
}

/* Both requests may come from the vCPU thread (inside exec()) or from a
 * monitor; the main loop acts on them (see main.c). */
void core_request_shutdown(int status)
{
    g_atomic_int_set(&shutdown_status, status);
    g_atomic_int_set(&shutdown_req, 1);
    g_main_context_wakeup(NULL);
}

/* The reset out of S3: the board names vCPU 0's resume path (and tells
 * its ACPI block the reset is a resume), RAM stays. */
static void reset_to_resume(void)
{
    tes_cpu_boot boot;
    bool start = machine_wakeup(&boot);

    machine_reset();
    if (start && cpu_by_index(0) && cpu_start_at(cpu_by_index(0), &boot) != 0) {
        core_log(TES_LOG_GUEST_ERROR,
                 "system_wakeup: vCPU 0 cannot start at 0x%" G_GINT64_MODIFIER "x", boot.entry);
    }
}

/* The reset itself runs from the main loop, with the lock, as QEMU's
 * main_loop_should_exit() does: never inside a device callback. */
static gboolean do_reset(gpointer opaque)
{
    g_atomic_int_set(&reset_req, 0);
    if (machine_cfg.no_reboot) {
        /* -no-reboot: a guest reboot ends the emulator instead. */
        core_request_shutdown(0);
        return G_SOURCE_REMOVE;
    }
    core_lock();
    if (state == RUN_SUSPENDED || (state == RUN_PAUSED && was_suspended)) {
        /* system_reset in S3 (or stopped in it), as QEMU's: "prelaunch"
         * until cont, and then the guest resumes (there SeaBIOS finds the
         * S3 flag QEMU's RTC left in CMOS 0x0f and jumps to the waking
         * vector). */
        reset_to_resume();
        state = RUN_PRELAUNCH;
        clock_pause();
    } else {
        machine_reset();
    }
    qmp_event("RESET");
    was_suspended = false;
    core_unlock();
    return G_SOURCE_REMOVE;
}

void core_request_reset(void)
{
    if (g_atomic_int_compare_and_exchange(&reset_req, 0, 1)) {
        g_idle_add(do_reset, NULL);
    }
    g_main_context_wakeup(NULL);
}

/* ACPI S3 entry (QEMU's qemu_system_suspend): the vCPUs stop where they
 * are and only a wakeup (system_wakeup, a device's wake event) goes on.
 * The virtual clock runs on, as QEMU's pause_all_vcpus leaves it counting:
 * the RTC keeps time and its alarm can wake the machine (QEMU's RTC runs on
 * the host clock). Other devices' timers may fire into the stopped vCPUs;
 * the wakeup's reset clears them. Runs from the main loop: the request
 * comes from the vCPU's PM1_CNT write. */
static gboolean do_suspend(gpointer opaque)
{
    g_atomic_int_set(&suspend_req, 0);
    core_lock();
    if (state == RUN_RUNNING) {
        accel_pause();
        state = RUN_SUSPENDED;
        qmp_event("SUSPEND");
    }
    core_unlock();
    return G_SOURCE_REMOVE;
}

void core_request_suspend(void)
{
    if (g_atomic_int_compare_and_exchange(&suspend_req, 0, 1)) {
        g_idle_add(do_suspend, NULL);
    }
    /* The vCPU runs on to the end of its budget (Linux spins on WAK_STS
     * there, as on hardware that has not powered down yet). */
    g_main_context_wakeup(NULL);
}

/* QEMU's qemu_system_wakeup: the machine resets (devices and CPUs, RAM
 * untouched; the board's wakeup hook tells its ACPI block that this reset
 * is a resume), vCPU 0 starts on the guest's resume path the board names
 * (the firmware's job on hardware), the vCPUs run again and WAKEUP goes
 * out. */
bool core_system_wakeup(char **err)
{
    core_lock();
    if (state != RUN_SUSPENDED) {
        core_unlock();
        *err = g_strdup("Unable to wake up: guest is not in suspended state");
        return false;
    }
    reset_to_resume();
    state = RUN_RUNNING;
    was_suspended = false;
    accel_resume();
    qmp_event("WAKEUP");
    core_unlock();
    return true;
}

static gboolean do_wakeup(gpointer opaque)
{
    char *err = NULL;

    g_atomic_int_set(&wakeup_req, 0);
    if (!core_system_wakeup(&err)) {
        g_free(err); /* woken or stopped meanwhile: nothing to do */
    }
    return G_SOURCE_REMOVE;
}

/* host->request_wakeup: a device's wake event (the RTC alarm through the
 * ACPI block's RTC_EN), QEMU's qemu_system_wakeup_request. Ignored unless
 * suspended, as there; the wakeup itself runs from the main loop, never
 * inside the device callback that asked (it resets every device). */
void core_request_wakeup(void)
{
    if (runstate_get() != RUN_SUSPENDED) {
        return;
    }
    if (g_atomic_int_compare_and_exchange(&wakeup_req, 0, 1)) {
        g_idle_add(do_wakeup, NULL);
    }
    g_main_context_wakeup(NULL);
}

bool core_shutdown_requested(int *status)
{
    if (!g_atomic_int_get(&shutdown_req)) {
        return false;
    }
    if (status) {
        *status = g_atomic_int_get(&shutdown_status);
    }
    return true;
}

/* ---- vCPUs ---- */

static void machine_error(tes_device *machine, char *msg)
{
    if (machine && !machine->error) {
        machine->error = msg;
        return;
    }
    fprintf(stderr, "tessera: %s\n", msg);
    g_free(msg);
}

/* -accel tcg,jit=on|off,tb-size=MiB: given to every CPU whose type declares
 * the properties "jit" (bool) and "tb-size" (MiB). A CPU without them
 * simply has no translator to configure. */
static int accel_jit = -1;
static uint64_t accel_tb_size;

void accel_set_options(int jit, uint64_t tb_size_mib)
{
    accel_jit = jit;
    accel_tb_size = tb_size_mib;
}

static bool cpu_accel_props(tes_device *dev, char **errp)
{
    char num[24];

    if (accel_jit >= 0 && dev_has_prop(dev, "jit") &&
        !dev_set_prop(dev, "jit", accel_jit ? "on" : "off", errp)) {
        return false;
    }
    if (accel_tb_size && dev_has_prop(dev, "tb-size")) {
        g_snprintf(num, sizeof(num), "%" G_GUINT64_FORMAT, accel_tb_size);
        return dev_set_prop(dev, "tb-size", num, errp);
    }
    return true;
}

/* A vCPU of model at index (its device named id when given), reset once;
 * NULL with *errp set. */
tes_cpu *cpu_new(const char *model, unsigned index, const char *id, char **errp)
{
    tes_device *dev;
    tes_cpu *cpu;

    if (!model || !type_lookup(model, TES_KIND_CPU, errp)) {
        if (!model) {
            core_set_error(errp, "no CPU model given");
        }
        return NULL;
    }
    dev = dev_new(model, TES_KIND_CPU, errp);
    if (dev && id) {
        dev->id = g_strdup(id);
    }
    if (!dev || !dev->type->class_info || !cpu_accel_props(dev, errp) ||
        !dev_realize(dev, sysbus_root(), errp)) {
        if (dev && errp && !*errp) {
            core_set_error(errp, "CPU type '%s' provides no CPU operations", model);
        }
        if (dev) {
            dev_free(dev);
        }
        return NULL;
    }
    cpu = g_new0(tes_cpu, 1);
    cpu->dev = dev;
    cpu->ops = dev->type->class_info;
    cpu->index = index;
    cpu->powered = index == 0; /* secondaries wait for PSCI / SIPI */
    if (!cpus) {
        cpus = g_ptr_array_new();
    }
    if (index >= cpus->len) {
        g_ptr_array_set_size(cpus, index + 1);
    }
    g_ptr_array_index(cpus, index) = cpu;
    if (cpu->ops->reset) {
        cpu->ops->reset(cpu, dev->s);
    }
    return cpu;
}

tes_cpu *cpu_create(tes_device *machine, const char *model, unsigned index)
{
    char *err = NULL;
    tes_cpu *cpu = cpu_new(model, index, NULL, &err);

    if (!cpu) {
        machine_error(machine, err ? err : g_strdup("cannot create the CPU"));
    }
    return cpu;
}

/* Forget a vCPU and free its device (CPU hot-unplug), under the lock: the
 * vCPU thread looks vCPUs up under it, so none runs this one after. */
void cpu_destroy(tes_cpu *cpu)
{
    if (cpus && cpu->index < cpus->len && g_ptr_array_index(cpus, cpu->index) == cpu) {
        g_ptr_array_index(cpus, cpu->index) = NULL;
    }
    dev_free(cpu->dev);
    /* Its input lines (cpu->in) stay allocated, as every tes_irq does:
     * boards wire only vCPU 0's, which is never unplugged. */
    g_free(cpu);
}

void *cpu_state(tes_cpu *cpu)
{
    return cpu ? cpu->dev->s : NULL;
}

unsigned cpu_index(tes_cpu *cpu)
{
    return cpu->index;
}

tes_cpu *cpu_by_index(unsigned index)
{
    if (!cpus || index >= cpus->len) {
        return NULL;
    }
    return g_ptr_array_index(cpus, index);
}

unsigned cpu_count(void)
{
    return cpus ? cpus->len : 0;
}

void cpu_kick(tes_cpu *cpu)
{
    g_mutex_lock(&acc_mutex);
    if (cpu) {
        cpu->kicked = true;
    }
    kick_pending = true;
    g_cond_broadcast(&acc_cond);
    g_mutex_unlock(&acc_mutex);
}

void cpu_set_running(tes_cpu *cpu, bool running)
{
    if (!cpu) {
        return;
    }
    cpu->powered = running;
    cpu->halted = false;
    cpu_kick(cpu);
}

/* Harness teardown: forget every vCPU (their devices go with the registry). */
void cpus_clear(void)
{
    if (cpus) {
        for (unsigned i = 0; i < cpus->len; i++) {
            g_free(g_ptr_array_index(cpus, i));
        }
        g_ptr_array_free(cpus, true);
        cpus = NULL;
    }
}

void cpus_reset(void)
{
    for (unsigned i = 0; i < cpu_count(); i++) {
        tes_cpu *cpu = cpu_by_index(i);

        if (!cpu) {
            continue;
        }
        if (cpu->ops->reset) {
            cpu->ops->reset(cpu, cpu->dev->s);
        }
        cpu_apply_boot(cpu);
        cpu->halted = false;
        cpu->kicked = false;
        /* vCPU 0 runs unless its board has nothing for it to run. */
        cpu->powered = cpu->index == 0 && !cpu_boot_off(cpu);
    }
    cpu_kick(NULL);
}

/* The vCPU inside exec(): interrupt controllers bank registers by it
 * (host->cpu_current). One vCPU thread today; per-thread when vCPUs get
 * threads of their own. */
static __thread tes_cpu *current_cpu;

tes_exec_status cpu_exec_one(tes_cpu *cpu, uint64_t budget, uint64_t *executed)
{
    tes_cpu *outer = current_cpu;
    tes_exec_status st;

    current_cpu = cpu;
    st = cpu->ops->exec(cpu, cpu->dev->s, budget, executed);
    current_cpu = outer;
    return st;
}

tes_cpu *cpu_current(void)
{
    return current_cpu;
}

/* ---- the vCPU thread ---- */

static bool take_kick(tes_cpu *cpu)
{
    bool k;

    g_mutex_lock(&acc_mutex);
    k = cpu->kicked;
    cpu->kicked = false;
    g_mutex_unlock(&acc_mutex);
    return k;
}

static bool is_paused(void)
{
    bool p;

    g_mutex_lock(&acc_mutex);
    p = acc_paused || acc_stopping;
    g_mutex_unlock(&acc_mutex);
    return p;
}

/* Run vCPU i for a budget, if it is there and can run. Returns true if it
 * ran. Looked up under the lock: device_del may remove vCPUs. */
static bool run_one(unsigned i)
{
    uint64_t executed = 0;
    bool kicked;
    tes_exec_status st;
    tes_cpu *cpu;

    core_lock();
    cpu = cpu_by_index(i);
    /* accel_pause() sets the flag under the lock: once it has returned we
     * never enter exec() again until accel_resume(). */
    if (!cpu || is_paused() || !cpu->powered || !cpu->ops->exec) {
        core_unlock();
        return false;
    }
    /* Completions whose eventfd signal was lost (see block.c): at most
     * one idle wait late. */
    drives_reap_ready();
    kicked = take_kick(cpu);
    if (cpu->halted) {
        if (!kicked && !(cpu->ops->has_work && cpu->ops->has_work(cpu, cpu->dev->s))) {
            core_unlock();
            return false;
        }
        cpu->halted = false;
    }
    /* The slice's doorbell writes queue their block requests; they go to
     * the kernel in one submission when the slice ends (at most
     * EXEC_BUDGET instructions later, at once on a halt), not one system
     * call per register write (megaraid_sas writes one per command). */
    block_batch_begin();
    st = cpu_exec_one(cpu, EXEC_BUDGET, &executed);
    /* What the submission finished at once (page-cache reads) completes
     * here, not after a main-loop wake-up; its interrupt kicks this vCPU,
     * so a HLT right after the doorbell does not sleep (block.c). */
    block_batch_end_reap();
    cpu->insns += executed;
    if (st == TES_EXEC_HALT) {
        cpu->halted = true;
    } else if (st == TES_EXEC_DEBUG) {
        gdbstub_debug_stop(cpu); /* stops every vCPU when a debugger is there */
    }
    core_unlock();
    /* Let a waiting main loop in before we take the lock again. */
    while (g_atomic_int_get(&lock_waiters) > 0) {
        g_thread_yield();
    }
    return st != TES_EXEC_HALT;
}

/* device_add may grow the array under the lock. */
static unsigned cpu_count_locked(void)
{
    unsigned n;

    core_lock();
    n = cpu_count();
    core_unlock();
    return n;
}

static gpointer vcpu_main(gpointer opaque)
{
    g_mutex_lock(&acc_mutex);
    while (!acc_stopping) {
        bool ran = false;

        if (acc_paused) {
            g_cond_wait(&acc_cond, &acc_mutex);
            continue;
        }
        kick_pending = false;
        g_mutex_unlock(&acc_mutex);
        for (unsigned i = 0; i < cpu_count_locked(); i++) {
            if (run_one(i)) {
                ran = true;
            }
        }
        g_mutex_lock(&acc_mutex);
        if (!ran && !kick_pending && !acc_paused && !acc_stopping) {
            /* All vCPUs off or halted: sleep until a kick (an interrupt
             * raised by a timer or device in the main loop kicks). */
            g_cond_wait_until(&acc_cond, &acc_mutex,
                              g_get_monotonic_time() + IDLE_WAIT_US);
        }
    }
    g_mutex_unlock(&acc_mutex);
    return NULL;
}

void accel_start(void)
{
    if (vcpu_thread) {
        return;
    }
    vcpu_thread = g_thread_new("vcpu", vcpu_main, NULL);
}

void accel_stop(void)
{
    GThread *t = vcpu_thread;

    if (!t) {
        return;
    }
    g_mutex_lock(&acc_mutex);
    acc_stopping = true;
    g_cond_broadcast(&acc_cond);
    g_mutex_unlock(&acc_mutex);
    g_thread_join(t);
    vcpu_thread = NULL;
}

/* Taking the machine lock first guarantees the vCPU thread is outside
 * exec(); it re-checks the flag under the lock before every exec(). */
void accel_pause(void)
{
    core_lock();
    g_mutex_lock(&acc_mutex);
    acc_paused = true;
    g_cond_broadcast(&acc_cond);
    g_mutex_unlock(&acc_mutex);
    core_unlock();
}

void accel_resume(void)
{
    g_mutex_lock(&acc_mutex);
    acc_paused = false;
    g_cond_broadcast(&acc_cond);
    g_mutex_unlock(&acc_mutex);
}
