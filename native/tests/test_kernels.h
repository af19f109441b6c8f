/* What the kernel tests (test_kernels*.c, one program: test_kernels.c runs them at every ISA level)
 * share: the level under test, the kernels picked for it, the random generator (one sequence for
 * the whole run), the operand buffers and the conv helpers. */
#ifndef ECNN_TEST_KERNELS_H
#define ECNN_TEST_KERNELS_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h" /* ecnn_crc32 */
#include "edgecnn.h"
#include "harness.h"
#include "kernels/kernels_i8.h"
#include "ops/configs.h"

extern const ecnn_isa_info *isa; /* the level under test */

/* The whole output as one tile (test_tiles splits it). */
#define WHOLE(rows, o) (&(ecnn_tile){0, (rows), 0, (o)})

uint32_t next_u32(void);
float frand(void); /* [-1, 1) */
int32_t irand(int32_t lo, int32_t hi);

#define MAX_N 13u
#define MAX_K 530u
#define MAX_O 139u /* > 8 int8 / 4 float panels + a rest: the batch-1 multi-panel rows */
#define MAX_PACKED (144u * 532u)

extern float xf[MAX_N * MAX_K], wf[MAX_O * MAX_K], wf_packed[MAX_PACKED], bf[MAX_O];
extern float y_ref[MAX_N * MAX_O], y_ref_packed[MAX_N * MAX_O], y_fast[MAX_N * MAX_O];
extern int8_t wq[MAX_O * MAX_K], wq_packed[MAX_PACKED];
extern uint8_t xq[MAX_N * MAX_K];

/* Plain [O,K] -> `layout` (zero padding), with the library's own index function. */
void pack_f32(float *dst, const float *src, uint32_t o, uint32_t k, uint32_t layout);

/* The FC kernels under test: the level's (its config's), or one that no config lists. */
extern const ecnn_fc_f32_impl *fc_f32_kernel;
extern const ecnn_fc_q_impl *fc_q_kernel;

#define ACT_CODES 9u /* ECNN_ACT_NONE .. ECNN_ACT_SWISH */

/* The fast float FC and conv kernels as their ops run them on tile t (kernels.h
 * ecnn_act_in_kernel): the kernel with the part of the fused activation it applies, then the
 * rest over the tile's outputs with the level's ACTIVATION kernel, through the ops' own
 * ecnn_act_after_take and ecnn_act_after_rows (ops/activation.c). The conv: the kernel
 * ecnn_conv2d_f32_fast picks; the sliced conv: the level's. */
void run_fc_f32_fast(const ecnn_fc_f32_impl *kernel, float *y, const float *x, const float *w, const float *b,
                     uint32_t n, uint32_t k, uint32_t o, const ecnn_tile *t, const ecnn_act_params *act);
void run_conv_f32_fast(float *y, const float *x, const float *w, const float *b, uint32_t n, const ecnn_tile *t,
                       const ecnn_conv2d_args *p);
void run_conv_sliced_f32_fast(float *y, const float *x, const float *w, const float *b, uint32_t n, const ecnn_tile *t,
                              const ecnn_conv2d_args *p, uint32_t k_slice);

/* A random window for the args p of a conv or pool kernel (their structs share these names):
 * kernel 1..3, then strides and dilations 1..2, drawn in that order. */
#define RANDOM_WINDOW(p)                                                                                               \
    ((p)->kh = (uint32_t)irand(1, 3), (p)->kw = (uint32_t)irand(1, 3), (p)->stride_h = (uint32_t)irand(1, 2),          \
     (p)->stride_w = (uint32_t)irand(1, 2), (p)->dilation_h = (uint32_t)irand(1, 2),                                   \
     (p)->dilation_w = (uint32_t)irand(1, 2))

/* Random conv geometry: odd sizes, strides, padding, dilation, groups. */
void random_conv(ecnn_conv2d_args *p, uint32_t trial);
/* OHWI -> HWIO */
void to_hwio(void *dst, const void *src, const ecnn_conv2d_args *p, size_t esize);
void check_conv_f32_hwio(ecnn_conv2d_args *p, uint32_t n, int with_bias, float *x, float *w, float *wh, float *b,
                         float *y_ref, float *y_fast);

/* The tests, by file: test_kernels_fc.c, test_kernels_conv.c, test_kernels_tiles.c,
 * test_kernels_pool.c, test_kernels_sliced.c, test_kernels_q_elementwise.c,
 * test_kernels_f32_elementwise.c. */
void test_fc_f32_panel16(void);
void test_fc_f32_fused_mac(void);
void test_fc_f32_act_special_values(void);
void test_fc_g4_panel16(void);
void test_f32_subnormals(void);
void test_fc_q_panel8x4(void);
void test_conv_hwio(void);
void test_conv_hwio_wide_rows(void);
void test_conv_first_layers(void);
void test_conv_sliced_first_layers(void);
void test_conv_q_cnn_shapes(void); /* test_kernels_conv_q.c */
void test_tiles(void);
void test_conv_cnn_shapes(void);     /* in tiles: whole and in random tiles */
void test_conv_depthwise(void);      /* in tiles too */
void test_conv_depthwise_maps(void); /* in tiles too */
void test_maxpool_q(void);
void test_avgpool_f32(void);
void test_avgpool_q(void);
void test_concat_rows(void); /* test_kernels_concat.c */
void test_conv_sliced(void); /* test_kernels_sliced.c */
void test_conv_sliced_one_slice(void);
void test_conv_sliced_windows(void);
void test_quantize_dequantize(void); /* test_kernels_q_elementwise.c */
void test_binary_q_kernels(void);
void test_conv_q_depthwise(void);       /* test_kernels_conv_q_dw.c */
void test_activation_f32_kernels(void); /* test_kernels_f32_elementwise.c */
void test_activation_f32_sweep(void);
void test_binary_f32_kernels(void);
void test_activation_q_table(void);

#endif /* ECNN_TEST_KERNELS_H */
