/* libFuzzer target: the model loader (ecnn_model_init) on arbitrary bytes, and a full
 * inference (every query function, ecnn_run at batch 1 and 3 with ordinary and hostile
 * input values, and ecnn_run_parallel split for 7 threads) on whatever it accepts. Built with AddressSanitizer + UndefinedBehavior-
 * Sanitizer (native/fuzz/Makefile): any out-of-bounds access, overflow or bad float->int
 * conversion aborts the run and libFuzzer saves the input.
 *
 * The CRC32 stops random mutations at the first check, so each input is tried twice: as
 * given (magic, version, truncation and CRC refusals) and with its CRC fixed when its
 * header's file_size fits the buffer (everything after the CRC check).
 *
 * Buffers are malloc'd at their exact size so ASan sees a read one byte past the end. */
#define _POSIX_C_SOURCE 200112L /* posix_memalign */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edgecnn.h"
#include "core/internal.h"

/* Skip ecnn_run when the input, output or arena would exceed this: a fuzzed fixed batch of tens of
 * thousands runs the code a small one runs, 12 times over (fast, reference and split runs, plain
 * and hostile input, as given and CRC-fixed), past libFuzzer's 10 s timeout under the sanitizers. */
#define MAX_RUN_BYTES (4u << 20)

/* Float values that stress the kernels: ordinary pixels, then IEEE specials. */
static float input_value(uint32_t i, int hostile)
{
    static const float special[] = {0.0f, -0.0f, 1.0f, -1.0f, 3.0e38f, -3.0e38f, 1.0e-45f, 0.5f};
    float v;
    if (!hostile) return (float)(i % 256u) / 255.0f;
    switch (i % 11u) {
    case 0: return NAN;
    case 1: return INFINITY;
    case 2: return -INFINITY;
    default: v = special[i % 8u]; return v;
    }
}

static void *exact_alloc(size_t n)
{
    return malloc(n ? n : 1);
}

/* Outputs equal bit for bit, except that any NaN matches any NaN (f32 outputs). */
static int same_output(const void *a, const void *b, size_t bytes, uint32_t dtype)
{
    size_t i;
    if (dtype != ECNN_DTYPE_F32) return memcmp(a, b, bytes) == 0;
    for (i = 0; i < bytes / 4; i++) {
        float x, y;
        memcpy(&x, (const uint8_t *)a + 4 * i, 4);
        memcpy(&y, (const uint8_t *)b + 4 * i, 4);
        if (isnan(x) && isnan(y)) continue;
        if (memcmp(&x, &y, 4) != 0) return 0;
    }
    return 1;
}

/* A parallel-for on the calling thread that runs the tiles out of order (odd ones backwards,
 * then even ones): the split must not change a bit. */
static void scrambled_parallel_for(void *pool, ecnn_task_fn task, void *context, size_t range)
{
    size_t i;
    (void)pool;
    for (i = range; i-- > 0;)
        if (i % 2) task(context, i);
    for (i = 0; i < range; i += 2) task(context, i);
}

static void run_once(const ecnn_model *m, uint32_t batch, int hostile)
{
    ecnn_tensor_info in_info, out_info;
    ecnn_model_info info;
    size_t arena_bytes, in_bytes, out_bytes, i;
    void *input, *output, *reference, *arena = NULL;
    if (ecnn_model_get_info(m, &info) != ECNN_OK) __builtin_trap();
    if (ecnn_model_tensor(m, info.input, &in_info) != ECNN_OK) __builtin_trap();
    if (ecnn_model_tensor(m, info.output, &out_info) != ECNN_OK) __builtin_trap();
    if (ecnn_arena_size(m, batch, &arena_bytes) != ECNN_OK) return; /* overflow on this host: refused, fine */
    in_bytes = (size_t)in_info.size * batch;
    out_bytes = (size_t)out_info.size * batch;
    if (in_bytes > MAX_RUN_BYTES || out_bytes > MAX_RUN_BYTES || arena_bytes > MAX_RUN_BYTES) return;
    input = exact_alloc(in_bytes);
    output = exact_alloc(out_bytes);
    if (arena_bytes > 0 && posix_memalign(&arena, ECNN_ARENA_ALIGN, arena_bytes) != 0) arena = NULL;
    if (input == NULL || output == NULL || (arena_bytes > 0 && arena == NULL)) goto done;
    if (in_info.dtype == ECNN_DTYPE_F32) {
        for (i = 0; i < in_bytes / 4; i++) ((float *)input)[i] = input_value((uint32_t)i, hostile);
    } else {
        for (i = 0; i < in_bytes; i++) ((uint8_t *)input)[i] = (uint8_t)(hostile ? 0x80u ^ i : i);
    }
    if (ecnn_run(m, batch, input, in_bytes, output, out_bytes, arena, arena_bytes) != ECNN_OK) __builtin_trap();
    /* Differential oracle: the fast (SIMD, packed-weight) kernels must give the reference
     * kernels' results bit for bit (NaN matches any NaN: payloads may differ). */
    reference = exact_alloc(out_bytes);
    if (reference != NULL) {
        if (ecnn_run_ops(m, batch, 0, info.num_ops, ECNN_RUN_REFERENCE, input, in_bytes, reference, out_bytes, arena,
                         arena_bytes) != ECNN_OK)
            __builtin_trap();
        if (!same_output(output, reference, out_bytes, out_info.dtype)) __builtin_trap();
        /* Split into tiles for 7 threads: ecnn_run's output bit for bit. */
        {
            const ecnn_parallel par = {scrambled_parallel_for, NULL, 7};
            if (ecnn_run_parallel(m, batch, input, in_bytes, reference, out_bytes, arena, arena_bytes, &par) != ECNN_OK)
                __builtin_trap();
            if (memcmp(output, reference, out_bytes) != 0) __builtin_trap();
        }
        free(reference);
    }
    /* Bad op ranges and unknown flags are refused. */
    if (ecnn_run_ops(m, batch, 1, 0, 0, input, in_bytes, output, out_bytes, arena, arena_bytes) != ECNN_E_ARG ||
        ecnn_run_ops(m, batch, 0, info.num_ops + 1, 0, input, in_bytes, output, out_bytes, arena, arena_bytes) !=
            ECNN_E_ARG ||
        ecnn_run_ops(m, batch, 0, info.num_ops, 0x80u, input, in_bytes, output, out_bytes, arena, arena_bytes) !=
            ECNN_E_ARG)
        __builtin_trap();
    /* The wrong sizes and a short arena are refused, not run. */
    if (ecnn_run(m, batch, input, in_bytes + 1, output, out_bytes, arena, arena_bytes) != ECNN_E_SIZE) __builtin_trap();
    if (arena_bytes > 0 &&
        ecnn_run(m, batch, input, in_bytes, output, out_bytes, arena, arena_bytes - 1) != ECNN_E_ARENA)
        __builtin_trap();
done:
    free(input);
    free(output);
    free(arena);
}

static void refuses_other_batch(const ecnn_model *m, uint32_t batch)
{
    /* refused before any buffer is sized or touched */
    static float in[1], out[1];
    if (ecnn_run(m, batch, in, sizeof in, out, sizeof out, NULL, 0) != ECNN_E_BATCH) __builtin_trap();
}

static void exercise(const uint8_t *buf, size_t size)
{
    ecnn_model m;
    ecnn_model_info info;
    int32_t op, tensor;
    uint32_t i;
    const ecnn_status st = ecnn_model_init(&m, buf, size);
    (void)ecnn_status_string(st);
    if (st != ECNN_OK) {
        const char *why = ecnn_model_error(&m, &op, &tensor);
        if (why == NULL || why[0] == '\0') __builtin_trap(); /* every refusal says which check failed */
        return;
    }
    if (ecnn_model_get_info(&m, &info) != ECNN_OK) __builtin_trap();
    for (i = 0; i < info.num_tensors; i++) {
        ecnn_tensor_info t;
        if (ecnn_model_tensor(&m, i, &t) != ECNN_OK) __builtin_trap();
    }
    for (i = 0; i < info.num_ops; i++) {
        ecnn_op_info o;
        if (ecnn_model_op(&m, i, &o) != ECNN_OK) __builtin_trap();
        (void)ecnn_op_name(o.op_type);
    }
    if (info.batch != 0) { /* a graph that fixes its batch runs at it and refuses any other */
        run_once(&m, info.batch, 0);
        run_once(&m, info.batch, 1);
        refuses_other_batch(&m, info.batch + 1);
    } else {
        run_once(&m, 1, 0);
        run_once(&m, 3, 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = exact_alloc(size);
    if (buf == NULL) return 0;
    if (size) memcpy(buf, data, size);
    exercise(buf, size);
    if (size >= 64) {
        const uint32_t file_size = ecnn_rd32(buf + 8);
        if (file_size >= 68 && file_size <= size) {
            const uint32_t crc = ecnn_crc32(buf, file_size - 4, NULL);
            memcpy(buf + file_size - 4, &crc, 4); /* little-endian host (the library needs one) */
            exercise(buf, size);
        }
    }
    free(buf);
    return 0;
}
