/* Threads: the built-in pool's API and parallel-for, and ecnn_run_parallel's results, which
 * must be bit-identical to ecnn_run's for any thread count (1, 2, 3, 7), any task order and
 * callers sharing one pool. Models: one built here whose ops all split (conv, in-place max
 * pooling, depthwise conv, average pooling, ADD, in-place activation, packed and plain FC,
 * softmax) and the fuzz corpus (real compiler output, float and int8), at batches that make
 * them split. No timing. */
#if defined(__linux__)
#define _GNU_SOURCE /* the address-space limit test: fork, setrlimit, waitpid */
#elif !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgecnn.h"
#include "harness.h"
#include "kernels/kernels.h"
#include "model_builder.h"

#if defined(__linux__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define THREAD_FAILURE_TEST 1 /* native Linux, no sanitizer (they reserve address space): see below */
#include <dirent.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

int harness_checks_failed = 0;
int harness_tests_passed = 0;
int harness_tests_failed = 0;

static uint32_t rng = 99u;
static float frand(void)
{
    rng = rng * 1664525u + 1013904223u;
    return (float)((rng >> 8) & 0xFFFFu) / 32768.0f - 1.0f;
}

static void *aligned_alloc64(size_t bytes, void **block)
{
    *block = malloc(bytes + 64);
    return *block ? (uint8_t *)*block + (64 - (uintptr_t)*block % 64) % 64 : NULL;
}

/* ---- the pool ------------------------------------------------------------------------------ */

typedef struct {
    unsigned char *hits; /* one slot per item: each task writes only its own */
} hit_ctx;

static void hit_task(void *ctx, size_t i)
{
    ((hit_ctx *)ctx)->hits[i]++;
}

/* Starts a pool of `threads` in malloc'ed memory (*block: free it after ecnn_pool_destroy). */
static ecnn_status start_pool(ecnn_parallel *par, uint32_t threads, void **block)
{
    size_t bytes = 0;
    ecnn_status st = ecnn_pool_size(threads, &bytes);
    *block = NULL;
    if (st != ECNN_OK) return st;
    *block = malloc(bytes + 3);
    return ecnn_pool_init(par, (uint8_t *)*block + 3, bytes, threads); /* any alignment will do */
}

static void test_pool_api(void)
{
    ecnn_parallel par;
    size_t bytes;
    void *block;
    static unsigned char hits[5000];
    static const size_t ranges[] = {0, 1, 2, 3, 7, 8, 100, 4999};
    uint32_t threads;
    size_t r, i;
    int round;
    hit_ctx ctx;
    CHECK(ecnn_cpu_count() >= 1);
    CHECK_STATUS(ecnn_pool_size(0, &bytes), ECNN_E_ARG);
    CHECK_STATUS(ecnn_pool_size(ECNN_POOL_MAX_THREADS + 1, &bytes), ECNN_E_ARG);
    CHECK_STATUS(ecnn_pool_size(2, NULL), ECNN_E_ARG);
    CHECK_STATUS(ecnn_pool_size(2, &bytes), ECNN_OK);
    block = malloc(bytes);
    CHECK_STATUS(ecnn_pool_init(&par, block, bytes - 1, 2), ECNN_E_ARG); /* too small */
    CHECK(par.parallel_for == NULL && par.threads == 1);                 /* left runnable, one thread */
    CHECK_STATUS(ecnn_pool_init(&par, block, bytes, 0), ECNN_E_ARG);
    CHECK_STATUS(ecnn_pool_init(&par, NULL, bytes, 2), ECNN_E_ARG);
    CHECK_STATUS(ecnn_pool_init(NULL, block, bytes, 2), ECNN_E_ARG);
    CHECK_STATUS(ecnn_pool_destroy(&par), ECNN_E_ARG); /* not a started pool */
    CHECK_STATUS(ecnn_pool_destroy(NULL), ECNN_E_ARG);
    free(block);
    ctx.hits = hits;
    for (threads = 1; threads <= 7; threads += threads < 3 ? 1 : 4) {
        CHECK_STATUS(start_pool(&par, threads, &block), ECNN_OK);
        CHECK(par.threads == threads && par.parallel_for == ecnn_pool_parallel_for);
        for (round = 0; round < 50; round++) /* every item exactly once, many rounds in a row */
            for (r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
                memset(hits, 0, sizeof hits);
                par.parallel_for(par.pool, hit_task, &ctx, ranges[r]);
                for (i = 0; i < sizeof hits; i++) CHECK(hits[i] == (i < ranges[r]));
            }
        CHECK_STATUS(ecnn_pool_destroy(&par), ECNN_OK);
        CHECK(par.parallel_for == NULL && par.pool == NULL && par.threads == 1);
        CHECK_STATUS(ecnn_pool_destroy(&par), ECNN_E_ARG); /* twice */
        free(block);
    }
}

static void pause_us(long us)
{
    struct timespec ts;
    ts.tv_sec = 0;
    ts.tv_nsec = us * 1000;
    nanosleep(&ts, NULL);
}

/* Item 0 sleeps 120 us: when a worker runs it, the caller outlasts its 50-us poll and sleeps
 * until the last item is done. */
static void slow_hit_task(void *ctx, size_t i)
{
    if (i == 0) pause_us(120);
    ((hit_ctx *)ctx)->hits[i]++;
}

/* Calls after a rest (the workers asleep: woken by the call), and calls whose last item
 * outlasts the caller's poll (the caller asleep: woken by the worker that ends it). */
static void test_pool_sleep_and_wake(void)
{
    static unsigned char hits[16];
    static const uint32_t thread_counts[] = {2, 3};
    ecnn_parallel par;
    void *block;
    hit_ctx ctx;
    size_t t, i;
    int round;
    ctx.hits = hits;
    for (t = 0; t < sizeof thread_counts / sizeof thread_counts[0]; t++) {
        CHECK_STATUS(start_pool(&par, thread_counts[t], &block), ECNN_OK);
        for (round = 0; round < 40; round++) {
            if (round % 2 == 0) pause_us(200); /* longer than the workers poll */
            memset(hits, 0, sizeof hits);
            par.parallel_for(par.pool, round % 4 < 2 ? hit_task : slow_hit_task, &ctx, sizeof hits);
            for (i = 0; i < sizeof hits; i++) CHECK(hits[i] == 1);
        }
        pause_us(200);
        CHECK_STATUS(ecnn_pool_destroy(&par), ECNN_OK); /* workers asleep */
        free(block);
    }
}

#if defined(__linux__) && defined(CPU_COUNT)
#include <sched.h>
typedef struct {
    pthread_t caller;
    int worker_items;    /* items run by a worker */
    int worker_cpus_max; /* the most CPUs a worker's affinity allowed */
    int worker_cpus_min;
    pthread_mutex_t lock;
} affinity_ctx;

/* Records the affinity of the worker that runs the item; sleeps so that the workers get items. */
static void affinity_task(void *ctx, size_t i)
{
    affinity_ctx *a = (affinity_ctx *)ctx;
    cpu_set_t set;
    (void)i;
    pause_us(300);
    if (pthread_equal(pthread_self(), a->caller)) return;
    if (pthread_getaffinity_np(pthread_self(), sizeof set, &set) != 0) return;
    pthread_mutex_lock(&a->lock);
    a->worker_items++;
    if (CPU_COUNT(&set) > a->worker_cpus_max) a->worker_cpus_max = CPU_COUNT(&set);
    if (CPU_COUNT(&set) < a->worker_cpus_min) a->worker_cpus_min = CPU_COUNT(&set);
    pthread_mutex_unlock(&a->lock);
}
#endif

/* The workers' affinity leaves out the caller's CPU (woken after a pause they would otherwise
 * start there), and only that one; the caller's own affinity is left as it was. */
static void test_pool_workers_off_caller_cpu(void)
{
#if defined(__linux__) && defined(CPU_COUNT)
    static const uint32_t thread_counts[] = {2, 3};
    cpu_set_t mine, after;
    ecnn_parallel par;
    void *block;
    size_t t;
    int round;
    CHECK(sched_getaffinity(0, sizeof mine, &mine) == 0);
    for (t = 0; t < sizeof thread_counts / sizeof thread_counts[0]; t++) {
        affinity_ctx a;
        a.caller = pthread_self();
        a.worker_items = 0;
        a.worker_cpus_max = 0;
        a.worker_cpus_min = CPU_SETSIZE;
        pthread_mutex_init(&a.lock, NULL);
        CHECK_STATUS(start_pool(&par, thread_counts[t], &block), ECNN_OK);
        for (round = 0; round < 4; round++) {
            pause_us(500); /* workers asleep */
            par.parallel_for(par.pool, affinity_task, &a, 16);
        }
        CHECK(a.worker_items > 0);
        if (CPU_COUNT(&mine) > 1) {
            CHECK(a.worker_cpus_max == CPU_COUNT(&mine) - 1);
            CHECK(a.worker_cpus_min == CPU_COUNT(&mine) - 1);
        } else {
            CHECK(a.worker_cpus_max == 1); /* one CPU: nothing to steer to, the affinity stays */
        }
        CHECK(sched_getaffinity(0, sizeof after, &after) == 0);
        CHECK(CPU_EQUAL(&mine, &after));
        CHECK_STATUS(ecnn_pool_destroy(&par), ECNN_OK);
        pthread_mutex_destroy(&a.lock);
        free(block);
    }
#else
    printf("test_pool_workers_off_caller_cpu: not run on this target (Linux only)\n");
#endif
}

/* A pool whose threads cannot start (the address space is too small for their stacks): the
 * status says so, no thread is left running and the struct runs single-threaded. In a child
 * process, which the limit would otherwise hamper. */
static void test_pool_start_failure(void)
{
#ifdef THREAD_FAILURE_TEST
    const pid_t pid = fork();
    int status = 0;
    if (pid == 0) {
        static unsigned char memory[1 << 16];
        ecnn_parallel par;
        struct rlimit lim;
        unsigned long pages = 0;
        int tasks = 0, code = 0;
        FILE *f = fopen("/proc/self/statm", "r");
        DIR *d;
        if (!f || fscanf(f, "%lu", &pages) != 1) _exit(10);
        fclose(f);
        lim.rlim_cur = lim.rlim_max = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (4u << 20); /* < one 8 MB stack */
        if (setrlimit(RLIMIT_AS, &lim) != 0) _exit(11);
        if (ecnn_pool_init(&par, memory, sizeof memory, 16) != ECNN_E_THREADS) code |= 1;
        if (par.parallel_for != NULL || par.threads != 1) code |= 2;
        if ((d = opendir("/proc/self/task")) != NULL) { /* the threads of this process: the main one only */
            struct dirent *e;
            while ((e = readdir(d)) != NULL) tasks += e->d_name[0] != '.';
            closedir(d);
        }
        if (tasks != 1) code |= 4;
        _exit(code);
    }
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fprintf(stderr, "  child status %d\n", status);
#else
    printf("test_pool_start_failure: not run on this target (needs native x86-64 Linux, no sanitizer)\n");
#endif
}

/* ---- models -------------------------------------------------------------------------------- */

#define H 12
#define W 12
#define C 16
#define O 48
#define FC1 100
#define CLASSES 10

static model_builder builder;
static union {
    uint8_t b[MB_MAX_FILE + 64];
    double align_;
} file_u;

/* HWIO copy of OHWI weights [o][kh][kw][cg]. */
static void hwio(float *dst, const float *src, uint32_t o, uint32_t kh, uint32_t kw, uint32_t cg)
{
    uint32_t a, y, x, c;
    for (a = 0; a < o; a++)
        for (y = 0; y < kh; y++)
            for (x = 0; x < kw; x++)
                for (c = 0; c < cg; c++) dst[((y * kw + x) * cg + c) * o + a] = src[((a * kh + y) * kw + x) * cg + c];
}

/* The model of this file's comment: every op splits at some batch; returns its file. */
static uint8_t *build_model(uint32_t *size)
{
    static float w1[O * 9 * C], w1h[O * 9 * C], b1[O], wd[O * 9], wdh[O * 9], bd[O];
    static float f1[FC1 * H / 2 * W / 2 * O], f1p[(FC1 + 15) / 16 * 16 * H / 2 * W / 2 * O], fb1[FC1];
    static float f2[CLASSES * FC1], fb2[CLASSES];
    const uint32_t k1 = H / 2 * W / 2 * O;
    const uint32_t d_in[3] = {H, W, C}, d_a[3] = {H, W, O}, d_b[3] = {H / 2, W / 2, O}, d_flat[1] = {k1};
    const uint32_t d_h[1] = {FC1}, d_out[1] = {CLASSES};
    const uint32_t d_w1[4] = {O, 3, 3, C}, d_b1[1] = {O}, d_wd[4] = {O, 3, 3, 1}, d_f1[2] = {FC1, k1}, d_fb1[1] = {FC1};
    const uint32_t d_f2[2] = {CLASSES, FC1}, d_fb2[1] = {CLASSES};
    const uint32_t conv_p[12] = {1, 1, 1, 1, 1, 1, 1, 1, 1, ECNN_ACT_RELU, 0, 0};
    const uint32_t dw_p[12] = {1, 1, 1, 1, 1, 1, 1, 1, O, ECNN_ACT_NONE, 0, 0};
    const uint32_t max_p[10] = {2, 2, 2, 2, 0, 0, 0, 0, 1, 1}, avg_p[11] = {3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0};
    const uint32_t relu_p[3] = {ECNN_ACT_RELU, 0, 0}, none_p[3] = {ECNN_ACT_NONE, 0, 0};
    uint32_t i, j, t;
    uint16_t in, a, b, c, d, e, f, g, h, fc2, out, tw1, tb1, twd, tbd, tf1, tfb1, tf2, tfb2;
    for (i = 0; i < sizeof w1 / sizeof w1[0]; i++) w1[i] = frand() * 0.3f;
    for (i = 0; i < O; i++) b1[i] = frand() * 0.1f, bd[i] = frand() * 0.1f;
    for (i = 0; i < O * 9; i++) wd[i] = frand() * 0.5f;
    for (i = 0; i < sizeof f1 / sizeof f1[0]; i++) f1[i] = frand() * 0.05f;
    for (i = 0; i < FC1; i++) fb1[i] = frand() * 0.1f;
    for (i = 0; i < sizeof f2 / sizeof f2[0]; i++) f2[i] = frand() * 0.2f;
    for (i = 0; i < CLASSES; i++) fb2[i] = frand() * 0.1f;
    hwio(w1h, w1, O, 3, 3, C);
    hwio(wdh, wd, O, 3, 3, 1);
    memset(f1p, 0, sizeof f1p);
    for (j = 0; j < FC1; j++)
        for (t = 0; t < k1; t++) f1p[ecnn_fc_w_index(ECNN_LAYOUT_FC_PANEL16, j, t, k1)] = f1[(size_t)j * k1 + t];
    mb_init(&builder);
    in = mb_tensor_act(&builder, ECNN_KIND_INPUT, 0, 3, d_in);
    a = mb_tensor_act(&builder, ECNN_KIND_ACTIVATION, 0, 3, d_a);         /* conv */
    b = mb_tensor_act(&builder, ECNN_KIND_ACTIVATION, 0, 3, d_b);         /* max pool, in place over a */
    c = mb_tensor_act(&builder, ECNN_KIND_ACTIVATION, 27648, 3, d_b);     /* depthwise */
    d = mb_tensor_act(&builder, ECNN_KIND_ACTIVATION, 34560, 3, d_b);     /* avg pool */
    e = mb_tensor_act(&builder, ECNN_KIND_ACTIVATION, 41472, 3, d_b);     /* c + d */
    f = mb_tensor_act(&builder, ECNN_KIND_ACTIVATION, 41472, 3, d_b);     /* relu in place over e */
    g = mb_tensor_act(&builder, ECNN_KIND_ACTIVATION, 41472, 1, d_flat);  /* reshape of f */
    h = mb_tensor_act(&builder, ECNN_KIND_ACTIVATION, 48384, 1, d_h);     /* FC, packed */
    fc2 = mb_tensor_act(&builder, ECNN_KIND_ACTIVATION, 48832, 1, d_out); /* FC, plain */
    out = mb_tensor_act(&builder, ECNN_KIND_OUTPUT, 0, 1, d_out);         /* softmax */
    tw1 = mb_tensor_const_packed(&builder, 4, d_w1, w1h, O * 9 * C, ECNN_LAYOUT_CONV_HWIO);
    tb1 = mb_tensor_const(&builder, 1, d_b1, b1);
    twd = mb_tensor_const_packed(&builder, 4, d_wd, wdh, O * 9, ECNN_LAYOUT_CONV_HWIO);
    tbd = mb_tensor_const(&builder, 1, d_b1, bd);
    tf1 =
        mb_tensor_const_packed(&builder, 2, d_f1, f1p, (uint32_t)(sizeof f1p / sizeof f1p[0]), ECNN_LAYOUT_FC_PANEL16);
    tfb1 = mb_tensor_const(&builder, 1, d_fb1, fb1);
    tf2 = mb_tensor_const(&builder, 2, d_f2, f2);
    tfb2 = mb_tensor_const(&builder, 1, d_fb2, fb2);
    mb_op_linear(&builder, ECNN_OP_CONV_2D, in, tw1, tb1, a, 12, conv_p);
    mb_op_1to1(&builder, ECNN_OP_MAX_POOL_2D, a, b, 10, max_p);
    mb_op_linear(&builder, ECNN_OP_CONV_2D, b, twd, tbd, c, 12, dw_p);
    mb_op_1to1(&builder, ECNN_OP_AVG_POOL_2D, c, d, 11, avg_p);
    {
        const uint16_t add_in[2] = {c, d};
        mb_op_add(&builder, ECNN_OP_ADD, 2, add_in, 1, &e, 3, none_p);
    }
    mb_op_1to1(&builder, ECNN_OP_ACTIVATION, e, f, 3, relu_p);
    mb_op_1to1(&builder, ECNN_OP_RESHAPE, f, g, 0, NULL);
    mb_op_linear(&builder, ECNN_OP_FULLY_CONNECTED, g, tf1, tfb1, h, 3, relu_p);
    mb_op_linear(&builder, ECNN_OP_FULLY_CONNECTED, h, tf2, tfb2, fc2, 3, none_p);
    mb_op_1to1(&builder, ECNN_OP_SOFTMAX, fc2, out, 0, NULL);
    *size = mb_write(&builder, file_u.b + (64 - (uintptr_t)file_u.b % 64) % 64);
    return file_u.b + (64 - (uintptr_t)file_u.b % 64) % 64;
}

/* A parallel-for as a firmware might write one, on the calling thread: tasks in reverse
 * order (the order must not matter); counts its calls and tasks. */
typedef struct {
    uint32_t calls;
    size_t tasks;
} reverse_pool;

static void reverse_parallel_for(void *pool, ecnn_task_fn task, void *context, size_t range)
{
    reverse_pool *p = (reverse_pool *)pool;
    p->calls++;
    p->tasks += range;
    while (range > 0) task(context, --range);
}

/* Runs `m` on `batch` samples of x with `par` (NULL: ecnn_run) into y; returns the status. */
static ecnn_status run_with(const ecnn_model *m, uint32_t batch, const void *x, void *y, const ecnn_parallel *par)
{
    ecnn_model_info info;
    ecnn_tensor_info ti, to;
    size_t need;
    void *block;
    uint8_t *arena;
    ecnn_status st;
    ecnn_model_get_info(m, &info);
    ecnn_model_tensor(m, info.input, &ti);
    ecnn_model_tensor(m, info.output, &to);
    ecnn_arena_size(m, batch, &need);
    arena = (uint8_t *)aligned_alloc64(need + 256, &block);
    memset(arena, 0xA5, need);       /* garbage, as the arena may hold */
    memset(arena + need, 0xEE, 256); /* threads or not, the arena size is exact: nothing past it */
    st = par ? ecnn_run_parallel(m, batch, x, (size_t)ti.size * batch, y, (size_t)to.size * batch, arena, need, par)
             : ecnn_run(m, batch, x, (size_t)ti.size * batch, y, (size_t)to.size * batch, arena, need);
    {
        size_t i;
        for (i = 0; i < 256; i++)
            if (arena[need + i] != 0xEE) st = ECNN_E_ARENA; /* reported as a wrong status */
    }
    free(block);
    return st;
}

/* Every thread count gives ecnn_run's output bit for bit, and so does a reverse-order
 * parallel-for that claims 7 threads. `min_tasks`: the reverse pool must have seen at least
 * that many tasks (the model does split). */
static void check_identical(const ecnn_model *m, uint32_t batch, size_t min_tasks)
{
    static const uint32_t counts[] = {2, 3, 7};
    ecnn_model_info info;
    ecnn_tensor_info ti, to;
    void *xb, *yb, *zb;
    uint8_t *x, *y, *z;
    size_t i;
    uint32_t c;
    ecnn_model_get_info(m, &info);
    ecnn_model_tensor(m, info.input, &ti);
    ecnn_model_tensor(m, info.output, &to);
    x = (uint8_t *)aligned_alloc64((size_t)ti.size * batch, &xb);
    y = (uint8_t *)aligned_alloc64((size_t)to.size * batch, &yb);
    z = (uint8_t *)aligned_alloc64((size_t)to.size * batch, &zb);
    if (ti.dtype == ECNN_DTYPE_F32)
        for (i = 0; i < (size_t)ti.size / 4 * batch; i++) ((float *)x)[i] = frand();
    else
        for (i = 0; i < (size_t)ti.size * batch; i++) x[i] = (uint8_t)((rng = rng * 1664525u + 1013904223u) >> 13);
    CHECK_STATUS(run_with(m, batch, x, y, NULL), ECNN_OK);
    for (c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        ecnn_parallel par;
        void *block;
        CHECK_STATUS(start_pool(&par, counts[c], &block), ECNN_OK);
        memset(z, 0x5A, (size_t)to.size * batch);
        CHECK_STATUS(run_with(m, batch, x, z, &par), ECNN_OK);
        CHECK(memcmp(y, z, (size_t)to.size * batch) == 0);
        if (memcmp(y, z, (size_t)to.size * batch) != 0)
            fprintf(stderr, "  differs: batch %u, %u threads\n", batch, counts[c]);
        CHECK_STATUS(ecnn_pool_destroy(&par), ECNN_OK);
        free(block);
    }
    {
        reverse_pool rp = {0, 0};
        ecnn_parallel par;
        par.parallel_for = reverse_parallel_for;
        par.pool = &rp;
        par.threads = 7;
        memset(z, 0x5A, (size_t)to.size * batch);
        CHECK_STATUS(run_with(m, batch, x, z, &par), ECNN_OK);
        CHECK(memcmp(y, z, (size_t)to.size * batch) == 0);
        CHECK(rp.tasks >= min_tasks);
        if (rp.tasks < min_tasks)
            fprintf(stderr, "  batch %u: %lu tasks, expected >= %lu\n", batch, (unsigned long)rp.tasks,
                    (unsigned long)min_tasks);
    }
    free(xb);
    free(yb);
    free(zb);
}

static void test_built_model(void)
{
    uint32_t size;
    uint8_t *file = build_model(&size);
    ecnn_model m;
    CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_OK);
    check_identical(&m, 1, 10); /* the first conv and the packed FC split at batch 1 */
    check_identical(&m, 3, 20);
    check_identical(&m, 64, 60); /* every op */
}

/* The split rule: a tiny op runs as one tile, without a parallel_for call. */
static void test_tiny_model_does_not_split(void)
{
    const uint32_t d[1] = {8};
    const uint32_t relu_p[3] = {ECNN_ACT_RELU, 0, 0};
    uint32_t size;
    uint8_t *file = file_u.b + (64 - (uintptr_t)file_u.b % 64) % 64;
    ecnn_model m;
    float x[8], y[8];
    static union {
        uint8_t b[128];
        double align_;
    } arena_u;
    uint8_t *arena = arena_u.b + (64 - (uintptr_t)arena_u.b % 64) % 64;
    reverse_pool rp = {0, 0};
    ecnn_parallel par;
    uint16_t in, out;
    uint32_t i;
    mb_init(&builder);
    in = mb_tensor_act(&builder, ECNN_KIND_INPUT, 0, 1, d);
    out = mb_tensor_act(&builder, ECNN_KIND_OUTPUT, 0, 1, d);
    mb_op_1to1(&builder, ECNN_OP_ACTIVATION, in, out, 3, relu_p);
    size = mb_write(&builder, file);
    CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_OK);
    for (i = 0; i < 8; i++) x[i] = frand();
    par.parallel_for = reverse_parallel_for;
    par.pool = &rp;
    par.threads = 7;
    CHECK_STATUS(ecnn_run_parallel(&m, 1, x, sizeof x, y, sizeof y, arena, 0, &par), ECNN_OK);
    CHECK(rp.calls == 0);
    for (i = 0; i < 8; i++) CHECK(y[i] == (x[i] > 0 ? x[i] : 0.0f));
    /* arguments */
    par.threads = 0;
    CHECK_STATUS(ecnn_run_parallel(&m, 1, x, sizeof x, y, sizeof y, arena, 0, &par), ECNN_E_ARG);
    par.threads = 2;
    par.parallel_for = NULL;
    CHECK_STATUS(ecnn_run_parallel(&m, 1, x, sizeof x, y, sizeof y, arena, 0, &par), ECNN_E_ARG);
    par.threads = 1; /* one thread needs no parallel_for */
    CHECK_STATUS(ecnn_run_parallel(&m, 1, x, sizeof x, y, sizeof y, arena, 0, &par), ECNN_OK);
    CHECK_STATUS(ecnn_run_parallel(&m, 1, x, sizeof x, y, sizeof y, arena, 0, NULL), ECNN_OK);
    CHECK_STATUS(ecnn_run_ops_parallel(&m, 1, 0, 1, 0, x, sizeof x, y, sizeof y, arena, 0, &par), ECNN_OK);
}

/* Real compiler output: float and int8 (per channel, per tensor, uint8), at batches that split. */
static void test_corpus_models(void)
{
    static const char *const files[] = {"fuzz/corpus/float_clip_dilated_group_gemm.ecnn",
                                        "fuzz/corpus/float_issue6_ops.ecnn",
                                        "fuzz/corpus/float_leaky_pad_stride.ecnn",
                                        "fuzz/corpus/float_relu.ecnn",
                                        "fuzz/corpus/int8_pad_stride.ecnn",
                                        "fuzz/corpus/int8_per_channel.ecnn",
                                        "fuzz/corpus/int8_per_tensor_uint8.ecnn"};
    size_t f;
    for (f = 0; f < sizeof files / sizeof files[0]; f++) {
        FILE *fp = fopen(files[f], "rb");
        void *block;
        uint8_t *buf;
        long len;
        ecnn_model m;
        ecnn_model_info info;
        CHECK(fp != NULL);
        if (!fp) {
            fprintf(stderr, "  cannot open %s (run from native/)\n", files[f]);
            continue;
        }
        fseek(fp, 0, SEEK_END);
        len = ftell(fp);
        fseek(fp, 0, SEEK_SET);
        buf = (uint8_t *)aligned_alloc64((size_t)len, &block);
        CHECK(fread(buf, 1, (size_t)len, fp) == (size_t)len);
        fclose(fp);
        CHECK_STATUS(ecnn_model_init(&m, buf, (size_t)len), ECNN_OK);
        ecnn_model_get_info(&m, &info);
        if (info.batch != 0) { /* the graph fixes the batch: that batch alone runs */
            check_identical(&m, info.batch, 0);
        } else {
            check_identical(&m, 1, 0);
            check_identical(&m, 7, 0);
            check_identical(&m, 300, 8);
        }
        free(block);
    }
}

/* Several threads run one model at once, sharing one pool: the callers that find it busy run
 * their ops on their own thread; every result is the single-threaded one. */
typedef struct {
    const ecnn_model *m;
    const ecnn_parallel *par;
    const float *x;
    const float *want;
    uint32_t batch;
    int ok;
} caller_arg;

static void *caller_main(void *arg)
{
    caller_arg *a = (caller_arg *)arg;
    float y[5 * CLASSES];
    int i;
    a->ok = 1;
    for (i = 0; i < 20; i++) {
        memset(y, 0, sizeof y);
        if (run_with(a->m, a->batch, a->x, y, a->par) != ECNN_OK ||
            memcmp(y, a->want, sizeof(float) * CLASSES * a->batch) != 0)
            a->ok = 0;
    }
    return NULL;
}

static void test_shared_pool(void)
{
    static float x[5 * H * W * C], want[5 * CLASSES];
    uint32_t size, i;
    uint8_t *file = build_model(&size);
    ecnn_model m;
    ecnn_parallel par;
    void *block;
    pthread_t callers[4];
    caller_arg args[4];
    CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_OK);
    for (i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = frand();
    CHECK_STATUS(run_with(&m, 5, x, want, NULL), ECNN_OK);
    CHECK_STATUS(start_pool(&par, 3, &block), ECNN_OK);
    for (i = 0; i < 4; i++) {
        args[i].m = &m;
        args[i].par = &par;
        args[i].x = x;
        args[i].want = want;
        args[i].batch = 1 + i % 2 * 4; /* batches 1 and 5: sample 0 is the same either way */
        CHECK(pthread_create(&callers[i], NULL, caller_main, &args[i]) == 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(callers[i], NULL);
        CHECK(args[i].ok);
    }
    CHECK_STATUS(ecnn_pool_destroy(&par), ECNN_OK);
    free(block);
}

int main(void)
{
    RUN_TEST(test_pool_api);
    RUN_TEST(test_pool_sleep_and_wake);
    RUN_TEST(test_pool_workers_off_caller_cpu);
    RUN_TEST(test_pool_start_failure);
    RUN_TEST(test_tiny_model_does_not_split);
    RUN_TEST(test_built_model);
    RUN_TEST(test_corpus_models);
    RUN_TEST(test_shared_pool);
    printf("threads (ISA level %s): %d passed, %d failed\n", getenv("EDGECNN_ISA") ? getenv("EDGECNN_ISA") : "best",
           harness_tests_passed, harness_tests_failed);
    return harness_tests_failed != 0;
}
