/*
 * cpu-arm: the generic timer (Arm ARM D11): the system counter and the
 * EL1 physical and virtual timers of each vCPU.
 *
 * The counter runs at 62.5 MHz off the core's virtual clock, one tick per
 * 16 ns exactly. A timer's output is level = ENABLE && !IMASK && count >=
 * CVAL; while it is enabled and not yet due, a core timer is armed at the
 * deadline to re-evaluate it. Timer i drives output i of the vCPU's
 * device (TES_ARM_TIMER_*), which the board wires to the GIC's PPIs
 * (phys 30, virt 27, hyp 26, sec 29).
 */
#include "arm.h"

#define NS_PER_TICK 16 /* 1e9 / 62.5e6 */
#define CTL_ENABLE 1u
#define CTL_IMASK 2u
#define CTL_ISTATUS 4u

uint64_t arm_cntpct(arm_cpu *c)
{
    (void)c;
    return (uint64_t)H->clock_ns() / NS_PER_TICK;
}

/* The count the timer compares against: virtual = physical - CNTVOFF. */
static uint64_t timer_count(arm_cpu *c, int which)
{
    uint64_t now = arm_cntpct(c);

    return which == TIMER_VIRT ? now - c->cntvoff_el2 : now;
}

static bool timer_met(arm_cpu *c, int which)
{
    return timer_count(c, which) >= c->timer[which].cval;
}

/* Arm the core timer at the ns when the count reaches CVAL, if reachable. */
static void arm_deadline(arm_cpu *c, int which)
{
    arm_timer *t = &c->timer[which];
    uint64_t ticks = t->cval + (which == TIMER_VIRT ? c->cntvoff_el2 : 0);

    if (!t->t) {
        return;
    }
    if (ticks > (uint64_t)INT64_MAX / NS_PER_TICK) {
        H->timer_del(t->t); /* beyond the end of (virtual) time */
        return;
    }
    H->timer_mod(t->t, (int64_t)(ticks * NS_PER_TICK));
}

void arm_timer_update(arm_cpu *c, int which)
{
    arm_timer *t = &c->timer[which];
    bool enabled = (t->ctl & CTL_ENABLE) != 0;
    bool met = enabled && timer_met(c, which);
    int level = met && !(t->ctl & CTL_IMASK);

    if (level != t->level) {
        t->level = level;
        H->dev_set_irq(H->cpu_dev(c->cpu), (unsigned)which, level);
    }
    if (enabled && !met && !(t->ctl & CTL_IMASK)) {
        arm_deadline(c, which);
    } else if (t->t) {
        H->timer_del(t->t);
    }
}

uint64_t arm_timer_read(arm_cpu *c, int which, int reg)
{
    arm_timer *t = &c->timer[which];

    switch (reg) {
    case TREG_CTL:
        return (t->ctl & (CTL_ENABLE | CTL_IMASK)) |
               ((t->ctl & CTL_ENABLE) && timer_met(c, which) ? CTL_ISTATUS : 0);
    case TREG_CVAL:
        return t->cval;
    default:
        /* TVAL: the low 32 bits of CVAL - count, signed (D11.2.4). */
        return (uint32_t)(t->cval - timer_count(c, which));
    }
}

void arm_timer_write(arm_cpu *c, int which, int reg, uint64_t val)
{
    arm_timer *t = &c->timer[which];

    switch (reg) {
    case TREG_CTL:
        t->ctl = val & (CTL_ENABLE | CTL_IMASK); /* ISTATUS is read-only */
        break;
    case TREG_CVAL:
        t->cval = val;
        break;
    default:
        t->cval = timer_count(c, which) + (uint64_t)(int64_t)(int32_t)val;
        break;
    }
    arm_timer_update(c, which);
}

/* One callback per timer: the opaque is the vCPU. */
static void fire_phys(void *opaque)
{
    arm_timer_update(opaque, TIMER_PHYS);
}

static void fire_virt(void *opaque)
{
    arm_timer_update(opaque, TIMER_VIRT);
}

static void fire_hyp(void *opaque)
{
    arm_timer_update(opaque, TIMER_HYP);
}

static void fire_sec(void *opaque)
{
    arm_timer_update(opaque, TIMER_SEC);
}

void arm_timers_init(arm_cpu *c)
{
    static const tes_timer_cb cbs[NUM_TIMERS] = {
        [TIMER_PHYS] = fire_phys,
        [TIMER_VIRT] = fire_virt,
        [TIMER_HYP] = fire_hyp,
        [TIMER_SEC] = fire_sec,
    };

    for (int i = 0; i < NUM_TIMERS; i++) {
        if (!c->timer[i].t) {
            c->timer[i].t = H->timer_new(cbs[i], c);
        }
    }
}
