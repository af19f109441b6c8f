/* The built-in thread pool (edgecnn.h, ecnn_pool_*): threads - 1 POSIX worker threads plus the
 * calling thread run the items of a parallel-for. Host builds only: compiled when the target
 * is a POSIX system with threads and a GCC-compatible compiler (its __atomic builtins are the
 * only atomics C99 offers nothing for); anywhere else, or with -DECNN_NO_THREADS, the
 * functions report ECNN_E_UNSUPPORTED and the library has no thread code at all.
 *
 * A parallel-for publishes its task and item count, wakes the sleeping workers, then claims
 * items itself like the workers do, and returns when all items are done. Items are claimed
 * from one counter of items left (compare-and-swap), so a worker that wakes late just finds
 * none: the caller never waits for a descheduled worker, only for items being run. Workers
 * poll about 50 microseconds after their last item (the next op's items follow at once), then
 * sleep: on a futex on Linux (a wake-up is one system call, none when no worker sleeps; a
 * condition variable and its mutex cost the woken worker a second wait when the caller still
 * holds the mutex), a condition variable elsewhere. On Linux the workers' affinity leaves out
 * the caller's CPU (steer_workers): woken after a pause, they otherwise start on it. A polling
 * worker that still finds itself on the caller's CPU (no other CPU allowed, other systems)
 * yields between polls: polling there stalls the caller until the
 * scheduler preempts the worker (batch-1 calls 1.3-3x slower than one thread's on a loaded
 * 2-vCPU VM; with the yield 0.9-1.0x). The caller polls without yielding: it would lose its
 * CPU to any other process. CPU burn after a call: 50 us per worker at most.
 * Memory: the caller's (ecnn_pool_size bytes), nothing else. */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#endif
#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "edgecnn.h"

#if !defined(ECNN_NO_THREADS) && defined(__GNUC__) && (defined(__unix__) || defined(__APPLE__))
#include <unistd.h>
#if defined(_POSIX_THREADS) && _POSIX_THREADS > 0
#define ECNN_POOL_THREADS 1
#endif
#endif

#ifdef ECNN_POOL_THREADS
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#if defined(__linux__) && !defined(ECNN_POOL_NO_FUTEX) /* -DECNN_POOL_NO_FUTEX: the other systems' wait */
#include <linux/futex.h>
#include <sys/syscall.h>
#define POOL_FUTEX 1
#endif
#if defined(__linux__) && defined(CPU_COUNT) && !defined(ECNN_POOL_NO_STEER)
#define POOL_STEER 1 /* keep the workers off the caller's CPU (steer_workers) */
#endif

#define LINE 64u               /* a cache line: counters that different threads write live apart */
#define SPIN_NS 50000          /* how long an idle thread polls before it sleeps */
#define POOL_MAGIC 0x45434e50u /* "ECNP": a started pool */

#define LOAD(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define ADD(p, v) __atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)

typedef struct {
    /* Set by the caller of a parallel-for before it publishes `left`; stable until its items are done. */
    ecnn_task_fn task;
    void *context;
    size_t range;
#ifndef POOL_FUTEX
    pthread_mutex_t lock;
    pthread_cond_t changed; /* a sleep word changed */
#endif
    uint32_t magic;
    uint32_t threads; /* workers + 1 */
    uint32_t started; /* workers running */
    uint32_t stop;    /* 1: workers return */
    uint32_t busy;    /* 1 while a parallel-for runs (a second caller then runs its items alone) */
    int caller_cpu;   /* the CPU the caller of the last parallel-for ran on, or -1 */
#ifdef POOL_STEER
    cpu_set_t allowed; /* the CPUs of the thread that started the pool, which the workers inherit */
#endif
    char pad0[LINE];
    size_t left; /* items not claimed yet: item range - left is the next */
    char pad1[LINE];
    size_t finished; /* items done */
    char pad2[LINE];
    uint32_t wakes;    /* bumped when work or stop is published: the workers' sleep word */
    uint32_t sleepers; /* workers asleep (or about to) on `wakes` */
    char pad3[LINE];
    uint32_t dones;   /* bumped when the last item is done: the caller's sleep word */
    uint32_t waiting; /* 1: the caller sleeps (or is about to) on `dones` */
    char pad4[LINE];
    pthread_t workers[]; /* threads - 1 */
} pool_t;

/* Sleeps while *word == seen (or returns at once; may return early); wake_all(word) after
 * changing *word ends it. */
static void sleep_on(pool_t *p, uint32_t *word, uint32_t seen)
{
#ifdef POOL_FUTEX
    (void)p;
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
#else
    pthread_mutex_lock(&p->lock);
    while (LOAD(word) == seen) pthread_cond_wait(&p->changed, &p->lock);
    pthread_mutex_unlock(&p->lock);
#endif
}

static void wake_all(pool_t *p, uint32_t *word)
{
#ifdef POOL_FUTEX
    (void)p;
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#else
    (void)word;
    pthread_mutex_lock(&p->lock);
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
#endif
}

static pool_t *pool_at(void *memory)
{
    return (pool_t *)(((uintptr_t)memory + LINE - 1) / LINE * LINE);
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The CPU this thread runs on, or -1 (unknown). */
static int current_cpu(void)
{
#if defined(__linux__)
    return sched_getcpu();
#else
    return -1;
#endif
}

/* Whether a polling worker lets the other threads of its CPU run: when it shares the caller's
 * CPU (or cannot tell), which would else wait for the worker to be preempted. On a CPU of its
 * own it keeps polling: a yield there hands the CPU to any other process for a time slice. */
static int should_yield(const pool_t *p)
{
    const int cpu = current_cpu();
    return cpu < 0 || cpu == __atomic_load_n(&p->caller_cpu, __ATOMIC_RELAXED);
}

/* Polls *word for SPIN_NS at most: returns 1 as soon as (*word == value) == equal, else 0.
 * worker: NULL for the caller, else the pool of the polling worker (see should_yield). */
static int spin_until(const size_t *word, size_t value, int equal, const pool_t *worker)
{
    const int64_t start = now_ns();
    uint32_t i;
    for (;;) {
        for (i = 0; i < 64; i++) {
            if ((LOAD(word) == value) == equal) return 1;
            cpu_relax();
        }
        if (now_ns() - start > SPIN_NS) return 0;
        if (worker != NULL && should_yield(worker)) sched_yield();
    }
}

/* Claims and runs items until none is left. */
static void run_items(pool_t *p)
{
    size_t left = LOAD(&p->left);
    while (left > 0) {
        if (__atomic_compare_exchange_n(&p->left, &left, left - 1, 1, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            /* Claimed: the round cannot end before this item is done, so its fields are stable. */
            const size_t range = p->range;
            p->task(p->context, range - left);
            if (ADD(&p->finished, 1) == range) {
                ADD(&p->dones, 1);
                if (LOAD(&p->waiting)) wake_all(p, &p->dones);
            }
            left = LOAD(&p->left);
        }
    }
}

static void *worker_main(void *arg)
{
    pool_t *p = (pool_t *)arg;
    for (;;) {
        const uint32_t seen = LOAD(&p->wakes);
        if (!spin_until(&p->left, 0, 0, p) && !LOAD(&p->stop)) { /* nothing to do for a while: sleep */
            /* The waker zeroes `sleepers`: the next ops' wakes see no sleeper and make no system
             * call while this worker waits for a CPU. Not sleeping after all leaves it counted:
             * one wake-up call too many later, never one too few. */
            ADD(&p->sleepers, 1);
            if (LOAD(&p->left) == 0 && !LOAD(&p->stop)) sleep_on(p, &p->wakes, seen);
        }
        if (LOAD(&p->stop)) return NULL;
        run_items(p);
    }
}

/* Bumps `wakes`, waking the sleeping workers: they then poll for items for SPIN_NS. */
static void wake_workers(pool_t *p)
{
    ADD(&p->wakes, 1);
    if (__atomic_exchange_n(&p->sleepers, 0, __ATOMIC_SEQ_CST) != 0) wake_all(p, &p->wakes);
}

#ifdef POOL_STEER
/* Keeps the workers off the caller's CPU, where they cannot help. A KVM guest reports an idle
 * vCPU that its host has descheduled as preempted, not idle, and Linux then wakes a thread on
 * the waker's CPU: after a pause of 0.2 ms or more, every woken worker landed on the caller's
 * CPU (measured on a 2-vCPU guest), which it then shared. Set again only when the caller's CPU
 * changes (caller_cpu holds the last one); the process's own affinity is kept (only the caller's CPU is left out of it). A
 * failure leaves the workers where they are: placement is a hint, never a result. */
static void steer_workers(pool_t *p, int cpu)
{
    cpu_set_t set = p->allowed;
    uint32_t i;
    if (cpu >= 0 && cpu < CPU_SETSIZE && CPU_ISSET(cpu, &set)) CPU_CLR(cpu, &set);
    if (CPU_COUNT(&set) == 0) return; /* the caller's is the only CPU: nothing to steer to */
    for (i = 0; i < p->started; i++) pthread_setaffinity_np(p->workers[i], sizeof set, &set);
}
#endif

static void run_inline(ecnn_task_fn task, void *context, size_t range)
{
    size_t i;
    for (i = 0; i < range; i++) task(context, i);
}

void ecnn_pool_parallel_for(void *pool, ecnn_task_fn task, void *context, size_t range)
{
    pool_t *p = (pool_t *)pool;
    uint32_t idle = 0;
    int cpu;
    if (range == 0) return;
    if (p == NULL || p->threads < 2 || range == 1 ||
        !__atomic_compare_exchange_n(&p->busy, &idle, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        run_inline(task, context, range); /* one thread, or another caller has the pool: the same results */
        return;
    }
    p->task = task;
    p->context = context;
    p->range = range;
    cpu = current_cpu();
#ifdef POOL_STEER
    if (cpu != __atomic_load_n(&p->caller_cpu, __ATOMIC_RELAXED)) steer_workers(p, cpu);
#endif
    __atomic_store_n(&p->caller_cpu, cpu, __ATOMIC_RELAXED);
    STORE(&p->finished, 0);
    STORE(&p->left, range); /* publishes the fields above */
    wake_workers(p);
    run_items(p);
    if (!spin_until(&p->finished, range, 1, NULL)) { /* items still running on workers: wait for them */
        STORE(&p->waiting, 1);
        for (;;) {
            const uint32_t seen = LOAD(&p->dones);
            if (LOAD(&p->finished) == range) break;
            sleep_on(p, &p->dones, seen);
        }
        STORE(&p->waiting, 0);
    }
    STORE(&p->busy, 0);
}

ecnn_status ecnn_pool_size(uint32_t threads, size_t *bytes)
{
    if (bytes == NULL || threads == 0 || threads > ECNN_POOL_MAX_THREADS) return ECNN_E_ARG;
    *bytes = sizeof(pool_t) + (size_t)threads * sizeof(pthread_t) + LINE;
    return ECNN_OK;
}

static void stop_workers(pool_t *p)
{
    uint32_t i;
    STORE(&p->stop, 1);
    wake_workers(p);
    for (i = 0; i < p->started; i++) pthread_join(p->workers[i], NULL);
    p->started = 0;
#ifndef POOL_FUTEX
    pthread_cond_destroy(&p->changed);
    pthread_mutex_destroy(&p->lock);
#endif
    p->magic = 0;
}

static void set_serial(ecnn_parallel *parallel)
{
    parallel->parallel_for = NULL;
    parallel->pool = NULL;
    parallel->threads = 1;
}

ecnn_status ecnn_pool_init(ecnn_parallel *parallel, void *memory, size_t bytes, uint32_t threads)
{
    size_t need;
    pool_t *p;
    sigset_t all, old;
    uint32_t i;
    int failed = 0;
    if (parallel == NULL) return ECNN_E_ARG;
    set_serial(parallel);
    if (memory == NULL || ecnn_pool_size(threads, &need) != ECNN_OK || bytes < need) return ECNN_E_ARG;
    p = pool_at(memory);
    memset(p, 0, sizeof *p);
    p->caller_cpu = -1;
    p->threads = threads;
#ifdef POOL_STEER
    if (sched_getaffinity(0, sizeof p->allowed, &p->allowed) != 0) CPU_ZERO(&p->allowed); /* then no steering */
#endif
#ifndef POOL_FUTEX
    if (pthread_mutex_init(&p->lock, NULL) != 0) return ECNN_E_THREADS;
    if (pthread_cond_init(&p->changed, NULL) != 0) {
        pthread_mutex_destroy(&p->lock);
        return ECNN_E_THREADS;
    }
#endif
    /* Workers take no signals: the process's handlers stay on its own threads (Python's main thread). */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (i = 0; i + 1 < threads && !failed; i++) {
        failed = pthread_create(&p->workers[i], NULL, worker_main, p) != 0;
        if (!failed) p->started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (failed) {
        stop_workers(p);
        return ECNN_E_THREADS;
    }
    p->magic = POOL_MAGIC;
    parallel->parallel_for = ecnn_pool_parallel_for;
    parallel->pool = p;
    parallel->threads = threads;
    return ECNN_OK;
}

ecnn_status ecnn_pool_destroy(ecnn_parallel *parallel)
{
    pool_t *p;
    if (parallel == NULL || parallel->parallel_for != ecnn_pool_parallel_for || parallel->pool == NULL)
        return ECNN_E_ARG;
    p = (pool_t *)parallel->pool;
    if (p->magic != POOL_MAGIC) return ECNN_E_ARG;
    stop_workers(p);
    set_serial(parallel);
    return ECNN_OK;
}

uint32_t ecnn_cpu_count(void)
{
    long n;
#if defined(__linux__) && defined(CPU_COUNT)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return (uint32_t)CPU_COUNT(&set);
#endif
    n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : n > ECNN_POOL_MAX_THREADS ? ECNN_POOL_MAX_THREADS : (uint32_t)n;
}

#else /* no thread support in this build */

ecnn_status ecnn_pool_size(uint32_t threads, size_t *bytes)
{
    (void)threads;
    (void)bytes;
    return ECNN_E_UNSUPPORTED;
}

ecnn_status ecnn_pool_init(ecnn_parallel *parallel, void *memory, size_t bytes, uint32_t threads)
{
    (void)memory;
    (void)bytes;
    (void)threads;
    if (parallel == NULL) return ECNN_E_ARG;
    parallel->parallel_for = NULL;
    parallel->pool = NULL;
    parallel->threads = 1;
    return ECNN_E_UNSUPPORTED;
}

ecnn_status ecnn_pool_destroy(ecnn_parallel *parallel)
{
    (void)parallel;
    return ECNN_E_ARG;
}

void ecnn_pool_parallel_for(void *pool, ecnn_task_fn task, void *context, size_t range)
{
    size_t i;
    (void)pool;
    for (i = 0; i < range; i++) task(context, i);
}

uint32_t ecnn_cpu_count(void)
{
    return 1;
}

#endif
