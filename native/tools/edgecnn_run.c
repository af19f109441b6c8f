/* edgecnn-run: classify PGM images with an .ecnn model, no Python needed.
 *
 *   edgecnn-run [--threads N] [--raw] model.ecnn image.pgm [image.pgm ...]
 *   edgecnn-run --info model.ecnn
 *   edgecnn-run --isa
 *
 * Reads binary (P5) or ASCII (P2) PGM files whose size matches the model input
 * [H, W, 1], scales pixels to [0, 1] (pixel / maxval, the model's input contract) and
 * prints the top-3 classes with their probabilities. Class names are Fashion-MNIST's
 * when the model has 10 outputs. --raw prints every output instead, "IMAGE: v0 v1 ...", each
 * with %.9g (enough digits to give back the exact float32): the golden-output comparison
 * across targets (tests/edge_golden.py) reads these. --info prints the memory a firmware needs for the model: "MODEL: file F bytes,
 * arena A bytes (batch 1)" (F in flash, A in RAM; `make size` reads it). --isa lists the library's
 * ISA kernel levels, one a line: "NAME: runs here" or "NAME: compiled, not run on this CPU"
 * (native/Makefile runs the tests at each level that runs here). --threads N runs each image
 * on N threads (the library's pool; default: the CPUs this process may use, ecnn_cpu_count;
 * 1: single-threaded): the output is the same for any N. Exit status: 0 ok, 1 bad input or
 * option, 2 bad model or threads that cannot start. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgecnn.h"

static const char *const FASHION_MNIST[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                              "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

/* Reads a whole file into a 64-byte aligned buffer (weights are used in place). */
static unsigned char *read_file(const char *path, size_t *size, void **block)
{
    FILE *f = fopen(path, "rb");
    long len;
    unsigned char *buf;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    *block = malloc((size_t)len + 64);
    if (!*block) {
        fclose(f);
        return NULL;
    }
    buf = (unsigned char *)*block + (64 - (size_t)*block % 64) % 64;
    if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
        fclose(f);
        free(*block);
        return NULL;
    }
    fclose(f);
    *size = (size_t)len;
    return buf;
}

/* Next PGM header integer, skipping whitespace and # comments; -1 on error. */
static long pgm_int(FILE *f)
{
    int c;
    long v = 0;
    for (;;) {
        c = fgetc(f);
        if (c == '#') {
            while (c != '\n' && c != EOF) c = fgetc(f);
        } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            break;
        }
    }
    if (c < '0' || c > '9') return -1;
    while (c >= '0' && c <= '9') {
        v = v * 10 + (c - '0');
        if (v > 1000000) return -1;
        c = fgetc(f);
    }
    return v; /* the single whitespace after maxval is consumed here */
}

/* Loads a PGM into x: h*w floats in [0,1] for an f32 input; for a model taking raw u8 / i8
 * values, the pixels rescaled to 0..255 (as `edgecnn predict`: rint(v / maxval * 255) in f32),
 * minus 128 for i8. Returns 0 or prints why not and returns 1. */
static int load_pgm(const char *path, void *x, uint32_t dtype, long h, long w)
{
    FILE *f = fopen(path, "rb");
    char magic[2];
    long pw, ph, maxval, i;
    int ascii;
    if (!f) {
        fprintf(stderr, "edgecnn-run: %s: cannot open\n", path);
        return 1;
    }
    if (fread(magic, 1, 2, f) != 2 || magic[0] != 'P' || (magic[1] != '5' && magic[1] != '2')) {
        fprintf(stderr, "edgecnn-run: %s: not a PGM file (expected P5 or P2 magic)\n", path);
        fclose(f);
        return 1;
    }
    ascii = magic[1] == '2';
    pw = pgm_int(f);
    ph = pgm_int(f);
    maxval = pgm_int(f);
    if (pw <= 0 || ph <= 0 || maxval <= 0 || maxval > 255) {
        fprintf(stderr, "edgecnn-run: %s: bad PGM header (need width, height, maxval 1..255)\n", path);
        fclose(f);
        return 1;
    }
    if (pw != w || ph != h) {
        fprintf(stderr, "edgecnn-run: %s: image is %ldx%ld, the model needs %ldx%ld\n", path, pw, ph, w, h);
        fclose(f);
        return 1;
    }
    for (i = 0; i < h * w; i++) {
        long v;
        if (ascii) {
            v = pgm_int(f);
        } else {
            int c = fgetc(f);
            v = c == EOF ? -1 : c;
        }
        if (v < 0 || v > maxval) {
            fprintf(stderr, "edgecnn-run: %s: truncated or invalid pixel data\n", path);
            fclose(f);
            return 1;
        }
        if (dtype == ECNN_DTYPE_F32) {
            ((float *)x)[i] = (float)v / (float)maxval;
        } else {
            long q = lrintf((float)v / (float)maxval * 255.0f);
            if (dtype == ECNN_DTYPE_U8)
                ((uint8_t *)x)[i] = (uint8_t)q;
            else
                ((int8_t *)x)[i] = (int8_t)(q - 128);
        }
    }
    fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    void *block = NULL, *arena_block = NULL;
    unsigned char *file, *arena;
    size_t file_size, arena_bytes;
    ecnn_model model;
    ecnn_model_info info;
    ecnn_tensor_info in, out;
    ecnn_status st;
    void *x;
    float *y;
    int a, status = 0, raw = 0, info_only = 0;
    uint32_t classes, img_h = 0, img_w = 0; /* grayscale image size the input takes */
    uint32_t threads = ecnn_cpu_count();
    ecnn_parallel par = {NULL, NULL, 1};
    void *pool_block = NULL;

    if (argc == 2 && strcmp(argv[1], "--isa") == 0) {
        const char *name;
        int runs;
        uint32_t i;
        for (i = 0; (name = ecnn_isa_level(i, &runs)) != NULL; i++)
            printf("%s: %s\n", name, runs ? "runs here" : "compiled, not run on this CPU");
        return 0;
    }
    while (argc > 1 && strncmp(argv[1], "--", 2) == 0 && !info_only) {
        if (strcmp(argv[1], "--threads") == 0 && argc > 2) {
            char *end;
            const unsigned long n = strtoul(argv[2], &end, 10);
            if (*argv[2] == '\0' || *end != '\0' || n < 1 || n > ECNN_POOL_MAX_THREADS) {
                fprintf(stderr, "edgecnn-run: --threads takes a whole number from 1 to %d, got '%s'\n",
                        ECNN_POOL_MAX_THREADS, argv[2]);
                return 1;
            }
            threads = (uint32_t)n;
            argv += 2;
            argc -= 2;
            continue;
        }
        if (strcmp(argv[1], "--raw") != 0 && strcmp(argv[1], "--info") != 0) break;
        raw = argv[1][2] == 'r';
        info_only = !raw;
        argv++;
        argc--;
    }
    if (argc < (info_only ? 2 : 3)) {
        fprintf(stderr, "usage: edgecnn-run [--threads N] [--raw] MODEL.ecnn IMAGE.pgm [IMAGE.pgm ...]\n"
                        "       edgecnn-run --info MODEL.ecnn\n"
                        "       edgecnn-run --isa\n");
        return 1;
    }
    file = read_file(argv[1], &file_size, &block);
    if (!file) {
        fprintf(stderr, "edgecnn-run: %s: cannot read\n", argv[1]);
        return 2;
    }
    st = ecnn_model_init(&model, file, file_size);
    if (st != ECNN_OK) {
        int32_t op, tensor;
        const char *detail = ecnn_model_error(&model, &op, &tensor);
        if (st == ECNN_E_VERSION)
            fprintf(stderr,
                    "edgecnn-run: %s: file format version %u, library supports %d to %d: recompile the model "
                    "with this edgecnn version\n",
                    argv[1], (unsigned)model.version, ECNN_FORMAT_VERSION_MIN, ECNN_FORMAT_VERSION);
        else
            fprintf(stderr, "edgecnn-run: %s: %s (%s; op %d, tensor %d)\n", argv[1], ecnn_status_string(st), detail,
                    (int)op, (int)tensor);
        free(block);
        return 2;
    }
    ecnn_model_get_info(&model, &info);
    if (info_only) {
        ecnn_arena_size(&model, 1, &arena_bytes);
        printf("%s: file %lu bytes, arena %lu bytes (batch 1)\n", argv[1], (unsigned long)info.file_size,
               (unsigned long)arena_bytes);
        free(block);
        return 0;
    }
    if (info.batch > 1) { /* images run one at a time */
        fprintf(stderr,
                "edgecnn-run: %s: the model's graph fixes the batch at %u; this tool runs one image at a time\n",
                argv[1], (unsigned)info.batch);
        free(block);
        return 2;
    }
    ecnn_model_tensor(&model, info.input, &in);
    ecnn_model_tensor(&model, info.output, &out);
    /* One grayscale channel, in the layout the model declares: [H, W, 1] (NHWC, Keras),
     * [1, H, W] (NCHW, PyTorch) or [H, W]; the pixel bytes are the same in all three. */
    if (in.rank == 3 && in.dims[2] == 1) {
        img_h = in.dims[0], img_w = in.dims[1];
    } else if (in.rank == 3 && in.dims[0] == 1) {
        img_h = in.dims[1], img_w = in.dims[2];
    } else if (in.rank == 2) {
        img_h = in.dims[0], img_w = in.dims[1];
    }
    if (in.dtype == ECNN_DTYPE_I32 || img_h == 0 || out.dtype != ECNN_DTYPE_F32) {
        fprintf(stderr,
                "edgecnn-run: %s: needs a float-output model with a grayscale [H, W, 1], [1, H, W] or [H, W] "
                "input (float32, uint8 or int8)\n",
                argv[1]);
        free(block);
        return 2;
    }
    classes = out.size / 4;
    ecnn_arena_size(&model, 1, &arena_bytes);
    arena_block = malloc(arena_bytes + 64);
    x = malloc(in.size);
    y = (float *)malloc(out.size);
    if (!arena_block || !x || !y) {
        fprintf(stderr, "edgecnn-run: out of memory\n");
        free(block), free(arena_block), free(x), free(y);
        return 2;
    }
    arena = (unsigned char *)arena_block + (64 - (size_t)arena_block % 64) % 64;
    if (threads > 1) {
        size_t pool_bytes = 0;
        const char *why = NULL;
        st = ecnn_pool_size(threads, &pool_bytes);
        if (st == ECNN_OK && (pool_block = malloc(pool_bytes)) == NULL) why = "out of memory";
        if (st == ECNN_OK && pool_block) st = ecnn_pool_init(&par, pool_block, pool_bytes, threads);
        if (st != ECNN_OK || why) {
            fprintf(stderr, "edgecnn-run: cannot start %u threads: %s\n", (unsigned)threads,
                    why ? why : ecnn_status_string(st));
            free(block), free(arena_block), free(x), free(y), free(pool_block);
            return 2;
        }
    }
    for (a = 2; a < argc; a++) {
        uint32_t rank, j, best[3] = {0, 0, 0};
        if (load_pgm(argv[a], x, in.dtype, (long)img_h, (long)img_w)) {
            status = 1;
            continue;
        }
        st = ecnn_run_parallel(&model, 1, x, in.size, y, out.size, arena, arena_bytes, &par);
        if (st != ECNN_OK) {
            fprintf(stderr, "edgecnn-run: %s: %s\n", argv[a], ecnn_status_string(st));
            status = 1;
            continue;
        }
        if (raw) {
            printf("%s:", argv[a]);
            for (j = 0; j < classes; j++) printf(" %.9g", (double)y[j]);
            printf("\n");
            continue;
        }
        /* top-3 by selection: the output is small */
        for (rank = 0; rank < 3 && rank < classes; rank++) {
            int found = 0;
            for (j = 0; j < classes; j++) {
                uint32_t r;
                int taken = 0;
                for (r = 0; r < rank; r++) taken |= best[r] == j;
                if (!taken && (!found || y[j] > y[best[rank]])) {
                    best[rank] = j;
                    found = 1;
                }
            }
        }
        printf("%s:", argv[a]);
        for (rank = 0; rank < 3 && rank < classes; rank++) {
            if (classes == 10)
                printf("  %s %.4f", FASHION_MNIST[best[rank]], (double)y[best[rank]]);
            else
                printf("  class %u %.4f", (unsigned)best[rank], (double)y[best[rank]]);
        }
        printf("\n");
    }
    if (pool_block) ecnn_pool_destroy(&par);
    free(pool_block);
    free(block);
    free(arena_block);
    free(x);
    free(y);
    return status;
}
