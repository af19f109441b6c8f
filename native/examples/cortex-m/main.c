/* edgecnn on a Cortex-M under qemu-system-arm: one model, fixed inputs, no heap.
 *
 * The model is a const array in flash (model_data.c from `edgecnn compile --emit-c`), the arena
 * a static array sized by the generated macro, the input a const array (test_input.h from
 * run.py: float32, int8 or uint8, as the model takes). Prints over semihosting, one item a line:
 *   isa NAME                 the kernel level the library picked
 *   out XXXXXXXX             each output element's bits (hex: 8 digits a float, 2 an int8 code), in order
 *   instructions N           instructions ecnn_run executed (qemu -icount, see below)
 *   stack N                  the deepest stack use of ecnn_run, in bytes (painted stack)
 *   op I KERNEL MACS N       op I run alone (ecnn_run_ops): its kernel, MACs, instructions
 *
 * Instruction count: qemu does not emulate the DWT cycle counter, but with `-icount shift=0`
 * its virtual clock advances exactly 1 ns per instruction executed, and every timer (here
 * SysTick, on the processor clock) follows that clock: one tick per 1 GHz / f instructions
 * for a board clock f (40 on the 25 MHz AN386). Rather than trusting a frequency constant, the
 * program measures the instructions per tick on a loop of a known instruction count first. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "edgecnn.h"
#include "model_data.h"
#include "test_input.h"

#if TEST_INPUT_COUNT * TEST_INPUT_SIZE != MODEL_DATA_INPUT_BYTES ||                                                    \
    TEST_OUTPUT_COUNT * TEST_OUTPUT_SIZE != MODEL_DATA_OUTPUT_BYTES
#error "test_input.h does not match the model's input and output"
#endif

/* +1: a valid array even for a model with no arena (ecnn_run accepts any size then). */
static MODEL_DATA_ALIGN64 unsigned char arena[MODEL_DATA_ARENA_BYTES_1 + 1];
/* 4-byte aligned, as ecnn_run takes it (the word in the union), and no more: it is RAM */
static union {
    TEST_OUTPUT_TYPE v[TEST_OUTPUT_COUNT];
    uint32_t word;
} output_words;
#define output output_words.v

/* ---- SysTick as an instruction counter ------------------------------------------------- */

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SYST_RELOAD 0xFFFFFFu /* the 24-bit counter's largest reload: fewest wrap interrupts */

static volatile uint32_t systick_wraps;

/* Replaces picolibc's weak handler in its vector table: counts the counter's wraps. */
void arm_systick_isr(void)
{
    systick_wraps++;
}

static void ticks_start(void)
{
    SYST_CSR = 0;
    SYST_RVR = SYST_RELOAD;
    SYST_CVR = 0; /* any write clears the counter: it reloads on the next tick */
    systick_wraps = 0;
    SYST_CSR = 7u; /* processor clock, interrupt on wrap, enabled */
}

/* Ticks since ticks_start (the counter counts down from SYST_RELOAD). */
static uint64_t ticks_now(void)
{
    uint32_t wraps, value;
    do { /* a wrap between the two reads: read again */
        wraps = systick_wraps;
        value = SYST_CVR;
    } while (wraps != systick_wraps);
    return (uint64_t)wraps * (SYST_RELOAD + 1u) + (SYST_RELOAD - value);
}

/* A loop of exactly 2 * n + 1 instructions (subs, bne per iteration; the mov), the
 * calibration of instructions per tick. */
static void known_loop(uint32_t n)
{
    __asm__ volatile(".syntax unified\n"
                     "    mov r0, %0\n"
                     "1:  subs r0, r0, #1\n"
                     "    bne 1b\n"
                     :
                     : "r"(n)
                     : "r0", "cc");
}

#define CALIBRATION_LOOPS 4000000u

/* Instructions per tick, as a fraction num / den (both exact under -icount): the loop of 2n
 * more instructions than another, so that the measurement's own instructions cancel. */
static void calibrate(uint64_t *num, uint64_t *den)
{
    uint64_t e0, e1, e2;
    ticks_start();
    known_loop(100); /* qemu raises the reload interrupt of the cleared counter: let it pass */
    systick_wraps = 0;
    e0 = ticks_now();
    known_loop(CALIBRATION_LOOPS);
    e1 = ticks_now();
    known_loop(2u * CALIBRATION_LOOPS);
    e2 = ticks_now();
    *num = 2ull * CALIBRATION_LOOPS;
    *den = (e2 - e1) - (e1 - e0);
}

/* ---- stack painting --------------------------------------------------------------------- */

/* picolibc.ld: the end of .bss; the stack grows down towards it (the heap between them is never
 * used: nothing calls malloc), so painting from here finds the deepest stack use whatever the
 * stack size reserved. */
extern char __heap_start[];
#define PAINT 0xA5A5A5A5u

/* Paints the free stack below this function's frame (not inlined: below main's frame); returns
 * the top of the painted region. */
static __attribute__((noinline)) uint32_t *stack_paint(void)
{
    uint32_t *p = (uint32_t *)(void *)__heap_start;
    uintptr_t sp;
    uint32_t *top;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    top = (uint32_t *)((sp & ~(uintptr_t)3u) - 64u); /* a margin below the live frame */
    while (p < top) *p++ = PAINT;
    return top;
}

/* Bytes of stack used below `top` since stack_paint. */
static uint32_t stack_used(const uint32_t *top)
{
    const uint32_t *p = (const uint32_t *)(const void *)__heap_start;
    while (p < top && *p == PAINT) p++;
    return (uint32_t)((uintptr_t)top - (uintptr_t)p);
}

/* ---- the run ---------------------------------------------------------------------------- */

/* Not inlined into main: main's own frame stays above the painted region. */
static __attribute__((noinline)) ecnn_status run(const ecnn_model *model, uint64_t *ticks)
{
    uint64_t t0, t1;
    t0 = ticks_now();
    {
        const ecnn_status st =
            ecnn_run(model, 1, test_input, sizeof test_input, output, sizeof output, arena, MODEL_DATA_ARENA_BYTES_1);
        t1 = ticks_now();
        *ticks = t1 - t0;
        return st;
    }
}

int main(void)
{
    ecnn_model model;
    ecnn_status st;
    uint64_t num, den, ticks, empty;
    uint32_t *top;
    unsigned i;

    st = ecnn_model_init(&model, model_data, MODEL_DATA_BYTES);
    if (st != ECNN_OK) {
        printf("model: %s\n", ecnn_status_string(st));
        return 2;
    }
    printf("isa %s\n", ecnn_model_isa(&model));
    calibrate(&num, &den);
    if (den == 0) {
        printf("SysTick does not advance: run qemu with -icount shift=0\n");
        return 3;
    }
    top = stack_paint();
    {
        uint64_t a = ticks_now(), b = ticks_now();
        empty = b - a;
    }
    st = run(&model, &ticks);
    if (st != ECNN_OK) {
        printf("run: %s\n", ecnn_status_string(st));
        return 1;
    }
    for (i = 0; i < TEST_OUTPUT_COUNT; i++) { /* each element's bits */
        uint32_t bits = 0;
        memcpy(&bits, &output[i], sizeof output[i]);
        printf("out %0*lx\n", (int)(2 * sizeof output[i]), (unsigned long)bits);
    }
    printf("instructions %llu\n", (unsigned long long)((ticks - empty) * num / den));
    printf("stack %lu\n", (unsigned long)stack_used(top));
    /* the profile: each op again on its own, its inputs in the arena from the run above */
    for (i = 0; i < model.num_ops; i++) {
        ecnn_op_info op;
        uint64_t t0, t1;
        if (ecnn_model_op(&model, i, &op) != ECNN_OK) return 1;
        t0 = ticks_now();
        st = ecnn_run_ops(&model, 1, i, i + 1, 0, test_input, sizeof test_input, output, sizeof output, arena,
                          MODEL_DATA_ARENA_BYTES_1);
        t1 = ticks_now();
        if (st != ECNN_OK) return 1;
        printf("op %u %s %llu %llu\n", i, op.kernel ? op.kernel : "-", (unsigned long long)op.macs_per_sample,
               (unsigned long long)((t1 - t0 - empty) * num / den));
    }
    return 0;
}
