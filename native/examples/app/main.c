/* A C program using an installed edgecnn: runs a model on raw input samples.
 *
 *   app MODEL.ecnn INPUT.bin
 *
 * INPUT.bin holds N samples of the model input, back to back, in the input tensor's dtype and
 * layout (e.g. float32 NHWC). Prints one line per sample: the outputs, float32 with %.9g
 * (enough digits to give back the exact value), integer dtypes as integers. Exit status: 0 ok,
 * 1 bad arguments or input, 2 the library refused the model. Built by CMakeLists.txt
 * (find_package) or Makefile (pkg-config) in this folder. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <edgecnn.h>

/* The whole file in a buffer whose data starts at a multiple of `align` (C99 has no
 * aligned_alloc): *block is what to free. */
static unsigned char *read_file(const char *path, size_t align, size_t *size, void **block)
{
    FILE *f = fopen(path, "rb");
    long len;
    unsigned char *buf;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    *block = malloc((size_t)len + align);
    if (!*block) {
        fclose(f);
        return NULL;
    }
    buf = (unsigned char *)*block + (align - (uintptr_t)*block % align) % align;
    if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
        fclose(f);
        free(*block);
        return NULL;
    }
    fclose(f);
    *size = (size_t)len;
    return buf;
}

int main(int argc, char **argv)
{
    ecnn_model model;
    ecnn_model_info info;
    ecnn_tensor_info in, out;
    ecnn_status st;
    void *model_block, *input_block, *arena_block = NULL, *output;
    unsigned char *model_bytes, *input, *arena;
    size_t model_size, input_size, arena_size, elem, n, i, j;

    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL.ecnn INPUT.bin\n", argv[0]);
        return 1;
    }
    model_bytes = read_file(argv[1], 64, &model_size, &model_block);
    input = read_file(argv[2], 64, &input_size, &input_block);
    if (!model_bytes || !input) {
        fprintf(stderr, "cannot read %s\n", model_bytes ? argv[2] : argv[1]);
        return 1;
    }
    st = ecnn_model_init(&model, model_bytes, model_size);
    if (st != ECNN_OK) {
        fprintf(stderr, "%s: %s (%s)\n", argv[1], ecnn_status_string(st), ecnn_model_error(&model, NULL, NULL));
        return 2;
    }
    if (ecnn_model_get_info(&model, &info) != ECNN_OK || ecnn_model_tensor(&model, info.input, &in) != ECNN_OK ||
        ecnn_model_tensor(&model, info.output, &out) != ECNN_OK)
        return 2;
    if (input_size == 0 || input_size % in.size != 0) {
        fprintf(stderr, "%s: %lu bytes, not a whole number of %lu-byte samples\n", argv[2], (unsigned long)input_size,
                (unsigned long)in.size);
        return 1;
    }
    n = input_size / in.size;
    if (ecnn_arena_size(&model, (uint32_t)n, &arena_size) != ECNN_OK) return 1;
    arena_block = malloc(arena_size + ECNN_ARENA_ALIGN);
    output = malloc(n * out.size);
    if (!arena_block || !output) return 1;
    arena = (unsigned char *)arena_block +
            (ECNN_ARENA_ALIGN - (uintptr_t)arena_block % ECNN_ARENA_ALIGN) % ECNN_ARENA_ALIGN;
    st = ecnn_run(&model, (uint32_t)n, input, input_size, output, n * out.size, arena, arena_size);
    if (st != ECNN_OK) {
        fprintf(stderr, "ecnn_run: %s\n", ecnn_status_string(st));
        return 1;
    }
    elem = out.dtype == ECNN_DTYPE_F32 || out.dtype == ECNN_DTYPE_I32 ? 4 : 1;
    for (i = 0; i < n; i++) {
        for (j = 0; j < out.size / elem; j++) {
            const unsigned char *p = (const unsigned char *)output + i * out.size + j * elem;
            float f;
            int32_t v;
            if (j) putchar(' ');
            if (out.dtype == ECNN_DTYPE_F32) {
                memcpy(&f, p, 4);
                printf("%.9g", (double)f);
            } else if (out.dtype == ECNN_DTYPE_I32) {
                memcpy(&v, p, 4);
                printf("%ld", (long)v);
            } else {
                printf("%d", out.dtype == ECNN_DTYPE_I8 ? (int)(int8_t)*p : (int)*p);
            }
        }
        putchar('\n');
    }
    free(output);
    free(arena_block);
    free(input_block);
    free(model_block);
    return 0;
}
