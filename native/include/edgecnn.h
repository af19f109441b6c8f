/*
 * edgecnn: a small portable C99 inference library for CNNs compiled from ONNX.
 *
 * The one public header. Usage:
 *
 *     ecnn_model model;                                  // read-only after init
 *     ecnn_status st = ecnn_model_init(&model, file_bytes, file_size);
 *     size_t arena_bytes;
 *     st = ecnn_arena_size(&model, batch, &arena_bytes); // exact, known up front
 *     // arena: caller-owned, ECNN_ARENA_ALIGN-aligned, arena_bytes long
 *     st = ecnn_run(&model, batch, input, input_bytes, output, output_bytes, arena, arena_bytes);
 *
 * Rules that hold for every function:
 * - No allocation, no I/O, no assert/exit/printf: errors are returned as an ecnn_status
 *   (0 = ECNN_OK, negative = error; ecnn_status_string() describes each).
 * - Layout: activations are NHWC (batch N, height H, width W, channels C), row-major, with
 *   the batch as the leading dimension. Shapes reported by the library are per sample
 *   (without N). The input and output tensors keep the layout the ONNX model declares
 *   (e.g. NCHW from PyTorch): the compiler adds TRANSPOSE ops where it differs from NHWC.
 * - The model buffer is used in place (zero copy: weights are read from it at run time);
 *   it must stay valid and unchanged while the model is used. Its format is
 *   docs/file-format.md. This version of the library needs a little-endian host.
 * - Thread safety: after ecnn_model_init returns ECNN_OK the ecnn_model is never written
 *   again, so several threads may call ecnn_run on the same model at once, each with its
 *   own arena and output.
 * - Threads: the library starts none and allocates nothing. ecnn_run_parallel() splits each
 *   op into tiles (blocks of output rows and channels) and hands them to a parallel-for the
 *   caller supplies (ecnn_parallel): an RTOS's, pthreadpool's, or the built-in pthread pool of
 *   host builds (ecnn_pool_init). Every output element is computed by exactly one tile, the
 *   same way, so results are bit-identical for any thread count. The arena size does not
 *   depend on the threads (no kernel uses arena scratch; each tile's scratch is on its
 *   thread's stack).
 */
#ifndef EDGECNN_H
#define EDGECNN_H

#include <stddef.h>
#include <stdint.h>

#include "edgecnn_ops.h" /* op codes, parameter structs, kinds, dtypes, layouts, activations */

#ifdef __cplusplus
extern "C" {
#endif

/** The newest .ecnn format version this library reads and the compiler writes (docs/file-format.md). */
#define ECNN_FORMAT_VERSION 2
/** The oldest .ecnn format version this library reads. */
#define ECNN_FORMAT_VERSION_MIN 1
/** Required alignment in bytes of the arena passed to ecnn_run(). */
#define ECNN_ARENA_ALIGN 64
/** Required alignment of the model buffer (64 recommended: weights are 64-aligned in the file). */
#define ECNN_MODEL_ALIGN 4
/** Largest tensor rank in a model file. */
#define ECNN_MAX_RANK 5
/** Most inputs / outputs one op can have in ecnn_op_info. */
#define ECNN_MAX_OP_TENSORS 8
/** "No tensor" in a tensor-index slot (absent optional input). */
#define ECNN_NO_TENSOR 0xFFFF

/** Status codes: 0 is success, errors are negative. */
typedef enum {
    ECNN_OK = 0,
    ECNN_E_ARG = -1,         /**< NULL pointer, batch 0, or another bad argument */
    ECNN_E_MAGIC = -2,       /**< the buffer is not an .ecnn model file */
    ECNN_E_VERSION = -3,     /**< the file's format version is outside ECNN_FORMAT_VERSION_MIN..ECNN_FORMAT_VERSION */
    ECNN_E_TRUNCATED = -4,   /**< the buffer is shorter than the file size in its header */
    ECNN_E_CRC = -5,         /**< CRC32 mismatch: the file is damaged */
    ECNN_E_CORRUPT = -6,     /**< an offset, size, shape, index or parameter is invalid */
    ECNN_E_UNSUPPORTED = -7, /**< op type / dtype combination or flag this build does not implement */
    ECNN_E_ALIGN = -8,       /**< model buffer or arena not aligned as required */
    ECNN_E_ARENA = -9,       /**< arena smaller than ecnn_arena_size() */
    ECNN_E_SIZE = -10,       /**< input or output byte count does not match the batch */
    ECNN_E_OVERFLOW = -11,   /**< batch so large that a size overflows size_t */
    ECNN_E_ISA = -12,        /**< EDGECNN_ISA names no kernel level of this build, or one this CPU lacks */
    ECNN_E_THREADS = -13,    /**< the thread pool could not start a thread or create its lock */
    ECNN_E_BATCH = -14,      /**< the model's graph fixes the batch (ecnn_model_info.batch) and this run has another */
    ECNN_E_NONFINITE = -15   /**< ECNN_RUN_FINITE_INPUT: the float input holds a NaN or an infinity */
} ecnn_status;

/** An ISA kernel level (private: see ecnn_model_isa()). */
struct ecnn_isa_info;

/**
 * A loaded model. Fill it with ecnn_model_init(); treat the fields as private (they may
 * change between versions), except through the accessor functions below.
 */
typedef struct ecnn_model {
    const uint8_t *buf;     /* start of the model file */
    const uint8_t *tensors; /* tensor table */
    const uint8_t *ops;     /* op list */
    const uint8_t *data;    /* weight data section */
    uint32_t file_size;
    uint32_t version; /* the file's format version (set even on ECNN_E_VERSION) */
    uint32_t num_tensors;
    uint32_t num_ops;
    uint32_t ops_size;
    uint32_t data_size;
    uint32_t arena_fixed;      /* batch-independent arena bytes */
    uint32_t arena_per_sample; /* arena bytes per sample */
    uint32_t input;            /* index of the input tensor */
    uint32_t output;           /* index of the output tensor */
    uint32_t batch;            /* the batch the graph fixes, or 0: any batch */
    uint32_t metadata_offset;  /* metadata section (format version 2), 0 when absent */
    uint32_t metadata_size;
    uint64_t weight_bytes;           /* sum of CONSTANT tensor sizes */
    uint64_t activation_bytes;       /* sum of ACTIVATION tensor sizes per sample (no planning) */
    const struct ecnn_isa_info *isa; /* the kernel level in use (a constant table entry) */
    /* Diagnostics of the last ecnn_model_init (valid after it fails; -1 = not applicable). */
    int32_t err_op;
    int32_t err_tensor;
    const char *err_detail; /* static string: which check failed */
} ecnn_model;

/** Whole-model facts, from ecnn_model_get_info(). */
typedef struct {
    uint32_t version;   /* file format version */
    uint32_t file_size; /* bytes of the model file */
    uint32_t num_tensors;
    uint32_t num_ops;
    uint32_t input;       /* tensor index of the input */
    uint32_t output;      /* tensor index of the output */
    uint32_t arena_fixed; /* arena = arena_fixed + N * arena_per_sample */
    uint32_t arena_per_sample;
    uint64_t weight_bytes;     /* sum of CONSTANT tensor bytes */
    uint64_t activation_bytes; /* sum of ACTIVATION tensor bytes per sample, before planning */
    uint32_t batch;            /* the batch the ONNX graph fixes (ecnn_run takes exactly it), or 0: any batch */
} ecnn_model_info;

/** One tensor, from ecnn_model_tensor(). */
typedef struct {
    uint32_t kind;  /* ecnn_kind */
    uint32_t dtype; /* ecnn_dtype */
    uint32_t rank;
    uint32_t dims[ECNN_MAX_RANK]; /* per sample for INPUT/OUTPUT/ACTIVATION/SCRATCH, full for CONSTANT */
    uint32_t size;                /* bytes (per sample except for CONSTANT) */
    uint32_t offset;              /* arena offset per sample, or offset in the weight data */
    uint32_t quant_count;         /* 0 = float, 1 = per-tensor, >1 = per-channel */
} ecnn_tensor_info;

/** One op, from ecnn_model_op(). */
typedef struct {
    uint32_t op_type; /* ecnn_op_type */
    uint32_t num_inputs;
    uint32_t num_outputs;
    uint32_t inputs[ECNN_MAX_OP_TENSORS]; /* tensor indices; ECNN_NO_TENSOR = absent */
    uint32_t outputs[ECNN_MAX_OP_TENSORS];
    uint64_t macs_per_sample; /* multiply-accumulates per sample (0 for data movement) */
    uint64_t weight_bytes;    /* bytes of the CONSTANT inputs */
    const char *kernel;       /* the kernel ecnn_run runs for it at the model's ISA level,
                                         e.g. "fc_f32_panel16_avx512" (static string) */
} ecnn_op_info;

/** Library version string, e.g. "0.1.0". */
const char *ecnn_version(void);

/**
 * @brief Short English description of a status code.
 * @param[in] status  any value; unknown codes give "unknown status".
 * @return static string, never NULL.
 */
const char *ecnn_status_string(ecnn_status status);

/**
 * @brief Name of an op type, e.g. "CONV_2D".
 * @param[in] op_type  ecnn_op_type value; unknown values give "UNKNOWN".
 * @return static string, never NULL.
 */
const char *ecnn_op_name(uint32_t op_type);

/**
 * @brief Validate a model file in memory and fill a model handle. Zero copy.
 *
 * Checks everything before anything is used: magic, version, size, CRC32, every
 * section offset and size, every tensor (kind, dtype, rank, dims, size, offset inside
 * its section and aligned), every op (type, tensor counts and kinds, dtypes, shapes
 * against the op's parameters, parameter ranges), the order (an op only reads tensors
 * written before it) and the arena plan (no two live tensors share bytes unless the
 * format allows the alias).
 *
 * @param[out] model     handle to fill. On failure, model->version, err_op, err_tensor and
 *                       err_detail say what failed (see ecnn_model_error()); the model
 *                       must not be used with other functions.
 * @param[in]  buf       the file bytes; aligned to ECNN_MODEL_ALIGN (64 recommended). Must
 *                       stay valid and unchanged while the model is in use.
 * @param[in]  buf_size  bytes available at buf (may exceed the file size).
 * It also picks the ISA kernel level the model runs at (ecnn_model_isa()).
 *
 * @return ECNN_OK, ECNN_E_ARG (NULL), ECNN_E_ISA (EDGECNN_ISA names no level this build and CPU
 *         have), ECNN_E_ALIGN, ECNN_E_MAGIC, ECNN_E_VERSION, ECNN_E_TRUNCATED, ECNN_E_CRC,
 *         ECNN_E_CORRUPT, ECNN_E_UNSUPPORTED.
 */
ecnn_status ecnn_model_init(ecnn_model *model, const void *buf, size_t buf_size);

/**
 * @brief Why the last ecnn_model_init() on this handle failed.
 * @param[in]  model   handle passed to a failed ecnn_model_init().
 * @param[out] op      index of the offending op, or -1 (may be NULL).
 * @param[out] tensor  index of the offending tensor, or -1 (may be NULL).
 * @return static string naming the failed check ("" after success), never NULL.
 */
const char *ecnn_model_error(const ecnn_model *model, int32_t *op, int32_t *tensor);

/**
 * @brief Whole-model facts: counts, arena and weight sizes.
 * @param[in]  model  an initialised model.
 * @param[out] info   filled on success.
 * @return ECNN_OK or ECNN_E_ARG.
 */
ecnn_status ecnn_model_get_info(const ecnn_model *model, ecnn_model_info *info);

/**
 * @brief The model's metadata section (format version 2): UTF-8 JSON text, not NUL-terminated,
 *        describing the ONNX model it was compiled from (docs/file-format.md "Metadata"): input
 *        and output names, shapes and element types, producer and model properties.
 * @param[in]  model  an initialised model.
 * @param[out] text   points into the model buffer ("" when the file has no metadata).
 * @param[out] bytes  its length in bytes (0 when absent: version 1 files).
 * @return ECNN_OK or ECNN_E_ARG.
 */
ecnn_status ecnn_model_metadata(const ecnn_model *model, const char **text, uint32_t *bytes);

/**
 * @brief Describe tensor `index` (0 <= index < num_tensors).
 * @return ECNN_OK or ECNN_E_ARG (NULL or index out of range).
 */
ecnn_status ecnn_model_tensor(const ecnn_model *model, uint32_t index, ecnn_tensor_info *info);

/**
 * @brief Describe op `index` (0 <= index < num_ops), in execution order.
 * @return ECNN_OK or ECNN_E_ARG (NULL or index out of range).
 */
ecnn_status ecnn_model_op(const ecnn_model *model, uint32_t index, ecnn_op_info *info);

/**
 * @brief Exact arena size for a batch: arena_fixed + batch * arena_per_sample bytes.
 * @param[in]  model  an initialised model.
 * @param[in]  batch  number of samples N, >= 1.
 * @param[out] bytes  the size.
 * @return ECNN_OK, ECNN_E_ARG (NULL, batch 0), ECNN_E_OVERFLOW.
 */
ecnn_status ecnn_arena_size(const ecnn_model *model, uint32_t batch, size_t *bytes);

/**
 * @brief Run the model on a batch.
 *
 * @param[in]  model         an initialised model (not modified: thread safe).
 * @param[in]  batch         number of samples N, >= 1; exactly ecnn_model_info.batch when the
 *                           model's graph fixes it (non-zero).
 * @param[in]  input         N samples of the input tensor, in its dims (the layout the ONNX
 *                           model declares) and dtype (f32 for float models); aligned to
 *                           the element size.
 * @param[in]  input_bytes   must equal N * input tensor size.
 * @param[out] output        N samples of the output tensor; aligned to the element size.
 * @param[in]  output_bytes  must equal N * output tensor size.
 * @param[in,out] arena      scratch memory, ECNN_ARENA_ALIGN-aligned; contents on entry do
 *                           not matter and are garbage on return. May be NULL when
 *                           ecnn_arena_size() is 0 (a model with no intermediate tensors).
 * @param[in]  arena_bytes   at least ecnn_arena_size(model, N).
 *
 * Aliasing: input, output and arena must not overlap each other or the model buffer.
 * On error the output is untouched (all checks happen before the first op runs).
 *
 * @return ECNN_OK, ECNN_E_ARG (NULL, batch 0), ECNN_E_BATCH, ECNN_E_SIZE, ECNN_E_ALIGN, ECNN_E_ARENA,
 *         ECNN_E_OVERFLOW.
 */
ecnn_status ecnn_run(const ecnn_model *model, uint32_t batch, const void *input, size_t input_bytes, void *output,
                     size_t output_bytes, void *arena, size_t arena_bytes);

/** A task of a parallel-for: computes item `index` (one tile of one op). */
typedef void (*ecnn_task_fn)(void *context, size_t index);

/** A parallel-for (pthreadpool_parallelize_1d's shape, without its flags): calls
 * task(context, i) exactly once for every i in [0, range), in any order, from any of its
 * threads (the calling one included), and returns when every call has returned. The tasks of
 * one call write disjoint memory; they need no ordering among themselves. */
typedef void (*ecnn_parallel_for_fn)(void *pool, ecnn_task_fn task, void *context, size_t range);

/** How ecnn_run_parallel() runs the tiles of each op. Split rule: an op is cut into at most
 * 4 x threads tiles, and into fewer when it is small (a tile keeps at least ~64 K
 * multiply-accumulates of work, or the equivalent for other ops: a few microseconds; more tiles
 * than threads only when each keeps ~1 M): a tiny layer runs as one tile on the calling thread,
 * without a parallel_for call. Convolutions and
 * pooling are cut by output rows of the batch, then output channels; fully connected layers by
 * outputs, then samples; the other ops by ranges of elements, rows or samples. A task runs one
 * kernel call: it needs up to 32 KB of stack on the thread that runs it (the int8 convolution's
 * buffers; 28 KB on x86-64). */
typedef struct {
    ecnn_parallel_for_fn parallel_for; /**< NULL: every op on the calling thread */
    void *pool;                        /**< passed to parallel_for as its first argument */
    uint32_t threads;                  /**< threads parallel_for runs tasks on, >= 1: how finely ops are split */
} ecnn_parallel;

/**
 * @brief ecnn_run() with the work of each op split into tiles run through a parallel-for.
 *
 * @param[in] parallel  NULL or threads 1: as ecnn_run(), all on the calling thread.
 *                      Else parallel_for (non-NULL when threads > 1) runs each op's tiles;
 *                      it is called from the calling thread only, once per op that has more
 *                      than one tile, and nested calls never happen.
 * Other parameters, rules and checks as ecnn_run(); the output is bit-identical to ecnn_run()'s
 * for any threads. Several threads may run the same model at once, each with its own arena,
 * sharing one parallel-for only if it allows concurrent calls (the built-in pool does).
 * @return as ecnn_run(); ECNN_E_ARG also for threads 0, or threads > 1 without parallel_for.
 */
ecnn_status ecnn_run_parallel(const ecnn_model *model, uint32_t batch, const void *input, size_t input_bytes,
                              void *output, size_t output_bytes, void *arena, size_t arena_bytes,
                              const ecnn_parallel *parallel);

/** Flag of ecnn_run_ops(): run every op with its reference kernel (the plain loops the fast
 * SIMD kernels are tested against), whatever weight layout the file uses. */
#define ECNN_RUN_REFERENCE 1

/** Flag of ecnn_run_ops(): refuse a float32 input that holds a NaN or an infinity with
 * ECNN_E_NONFINITE, before any op runs (the float kernels do not propagate them as IEEE
 * arithmetic would: Relu and max pooling compare, and a NaN loses). No effect on int8 and
 * uint8 inputs. */
#define ECNN_RUN_FINITE_INPUT 2

/**
 * @brief Run ops [first_op, end_op) of the model: ecnn_run() is ecnn_run_ops(model, batch, 0,
 *        num_ops, 0, ...). Used to time single ops (the tensors an op reads must have been
 *        written by an earlier call with the same arena) and to run the reference kernels.
 *
 * @param[in] first_op, end_op  0 <= first_op <= end_op <= num_ops.
 * @param[in] flags             0, or ECNN_RUN_REFERENCE and/or ECNN_RUN_FINITE_INPUT.
 * Other parameters, rules and checks as ecnn_run().
 * @return as ecnn_run(); ECNN_E_ARG also for a bad op range or unknown flags; ECNN_E_NONFINITE.
 */
ecnn_status ecnn_run_ops(const ecnn_model *model, uint32_t batch, uint32_t first_op, uint32_t end_op, uint32_t flags,
                         const void *input, size_t input_bytes, void *output, size_t output_bytes, void *arena,
                         size_t arena_bytes);

/**
 * @brief ecnn_run_ops() with a parallel-for, as ecnn_run_parallel(): ecnn_run_parallel() is
 *        ecnn_run_ops_parallel(model, batch, 0, num_ops, 0, ..., parallel).
 * @return as ecnn_run_ops(); ECNN_E_ARG also for a bad `parallel` (see ecnn_run_parallel()).
 */
ecnn_status ecnn_run_ops_parallel(const ecnn_model *model, uint32_t batch, uint32_t first_op, uint32_t end_op,
                                  uint32_t flags, const void *input, size_t input_bytes, void *output,
                                  size_t output_bytes, void *arena, size_t arena_bytes, const ecnn_parallel *parallel);

/* ---- the built-in thread pool -------------------------------------------------------------
 * Host builds with POSIX threads (Linux, macOS, ... compiled with GCC or clang) have a small
 * pool of threads - 1 worker threads plus the calling thread, living in memory the caller
 * provides: no allocation, ever. Its workers poll for about 50 microseconds after each batch of
 * tiles (the next op's tiles follow at once; on Linux their affinity leaves out the calling
 * thread's CPU, and a worker that still finds itself there yields it between polls), then sleep (a futex on Linux, a condition variable elsewhere). Other builds
 * (bare metal, firmware; or -DECNN_NO_THREADS) keep these functions, which then report
 * ECNN_E_UNSUPPORTED: a firmware plugs its own parallel-for into ecnn_parallel instead. */

/** The most threads a built-in pool takes. */
#define ECNN_POOL_MAX_THREADS 1024

/**
 * @brief Bytes of memory a pool of `threads` threads needs (any alignment).
 * @param[in]  threads  1..ECNN_POOL_MAX_THREADS (1: no worker; tasks run on the caller).
 * @param[out] bytes    the size.
 * @return ECNN_OK, ECNN_E_ARG (NULL, threads 0 or above the maximum), ECNN_E_UNSUPPORTED (no
 *         thread support in this build).
 */
ecnn_status ecnn_pool_size(uint32_t threads, size_t *bytes);

/**
 * @brief Start a pool in caller memory and describe it in *parallel (parallel_for =
 *        ecnn_pool_parallel_for, pool = inside `memory`, threads), ready for ecnn_run_parallel().
 *
 * @param[out] parallel  filled on success; on failure {NULL, NULL, 1} (runs single-threaded).
 * @param[in]  memory    ecnn_pool_size(threads) bytes, any alignment; owned by the pool until
 *                       ecnn_pool_destroy() returns (do not move, free or reuse it before).
 * @param[in]  bytes     bytes at memory.
 * @param[in]  threads   1..ECNN_POOL_MAX_THREADS, the calling thread included.
 * The pool may be used by several threads at once: a caller that finds it busy runs its tasks
 * on its own thread (same results). After fork(), the child must not use a pool of its parent.
 * @return ECNN_OK, ECNN_E_ARG (NULL, bad threads, bytes too small), ECNN_E_THREADS (a thread
 *         or lock could not be created: nothing is left running), ECNN_E_UNSUPPORTED.
 */
ecnn_status ecnn_pool_init(ecnn_parallel *parallel, void *memory, size_t bytes, uint32_t threads);

/**
 * @brief Stop and join the workers of a pool from ecnn_pool_init(); the memory is then the
 *        caller's again and *parallel becomes {NULL, NULL, 1}. No ecnn_run_parallel() with this
 *        pool may be running.
 * @return ECNN_OK, ECNN_E_ARG (NULL, or not a started pool).
 */
ecnn_status ecnn_pool_destroy(ecnn_parallel *parallel);

/**
 * @brief The built-in pool's parallel-for (ecnn_parallel_for_fn): tasks on the pool's workers
 *        and the calling thread; on the calling thread alone when the pool is busy with
 *        another caller's parallel-for (or has one thread).
 */
void ecnn_pool_parallel_for(void *pool, ecnn_task_fn task, void *context, size_t range);

/**
 * @brief CPUs this process may run on (Linux: its affinity mask, as onnxruntime's default
 *        thread count; other POSIX systems: the online CPUs), at least 1; 1 without thread support.
 */
uint32_t ecnn_cpu_count(void);

/**
 * @brief The ISA kernel level the model runs at, e.g. "avx2" or "portable": the best level of
 *        this build that the CPU supports, or the level the environment variable EDGECNN_ISA
 *        names (hosted builds; ecnn_model_init refuses with ECNN_E_ISA a name that is no level
 *        of this build or one the CPU lacks). Each op's kernel: ecnn_op_info.kernel.
 * @param[in] model  an initialised model.
 * @return static string ("" for NULL or an uninitialised model), never NULL.
 */
const char *ecnn_model_isa(const ecnn_model *model);

/**
 * @brief The ISA kernel levels of this build, in order: 0 is "portable" (plain C, every build).
 * @param[in]  index      0, 1, ...
 * @param[out] runs_here  set to 1 when this CPU (and OS) supports the level, else 0 (may be NULL).
 * @return the level's name (as EDGECNN_ISA spells it), or NULL past the last level.
 */
const char *ecnn_isa_level(uint32_t index, int *runs_here);

#ifdef __cplusplus
}
#endif
#endif /* EDGECNN_H */
