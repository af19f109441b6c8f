/* Quantized tensors in a model file: reading their parameters (scales and zero points
 * live in the weight data, docs/file-format.md "Tensor table") and validating int8 / uint8 ops.
 * Shared by the validator (model.c) and the dispatcher (run.c). */
#ifndef ECNN_QUANT_H
#define ECNN_QUANT_H

#include "core/internal.h"
#include "kernels/kernels_i8.h"

/* 1 and the kernel element type when dtype is i8 or u8; 0 otherwise. */
int ecnn_qtype_of(uint32_t dtype, ecnn_qtype *type);

/* Scale / zero point `c` of a quantized tensor (c < quant_count; validated files only). */
float ecnn_q_scale(const ecnn_model *m, const ecnn_tensor_rec *t, uint32_t c);
int32_t ecnn_q_zero_point(const ecnn_model *m, const ecnn_tensor_rec *t, uint32_t c);

/* Checks that t is a quantized activation (i8/u8, one finite positive scale, zero point in
 * the dtype's range). Returns NULL when it is, else what is wrong. */
const char *ecnn_check_q_activation(const ecnn_model *m, const ecnn_tensor_rec *t);

/* Checks the tensors of an int8 CONV_2D / FULLY_CONNECTED: x, y quantized activations; w
 * i8/u8 with 1 or O (= w->dims[0]) scales along axis 0; b (kind 0 = absent) i32 [O]; `act`
 * NONE or RELU; and that the int32 accumulator of a dot product of `k` terms plus the bias
 * cannot overflow. Returns NULL when valid; else *status (ECNN_E_CORRUPT / ECNN_E_UNSUPPORTED),
 * *bad_tensor (index or 0xFFFFFFFF) and the message. `idx` = op tensor indices {x, w, b, y}. */
const char *ecnn_check_qlinear(const ecnn_model *m, const ecnn_tensor_rec *x, const ecnn_tensor_rec *w,
                               const ecnn_tensor_rec *b, const ecnn_tensor_rec *y, const uint32_t idx[4], uint64_t k,
                               uint32_t act, ecnn_status *status, uint32_t *bad_tensor);

/* Fills the kernel parameters of a validated int8 CONV_2D / FULLY_CONNECTED. */
void ecnn_qlinear_params_from(const ecnn_model *m, const ecnn_tensor_rec *x, const ecnn_tensor_rec *w,
                              const ecnn_tensor_rec *y, uint32_t act, ecnn_qlinear_params *q);

/* Checks that the `count` tensors at ts are quantized activations (ecnn_check_q_activation)
 * of one dtype, as the int8 ADD, AVG_POOL_2D, ACTIVATION and CONCAT kernels need. Returns NULL
 * when they are; else what is wrong, with *bad = the index (into ts) of the tensor at fault. */
const char *ecnn_check_q_group(const ecnn_model *m, const ecnn_tensor_rec *ts, uint32_t count, uint32_t *bad);

/* Per-tensor quantization of a validated quantized activation. */
void ecnn_qtensor_from(const ecnn_model *m, const ecnn_tensor_rec *t, ecnn_qtensor *q);

#endif /* ECNN_QUANT_H */
