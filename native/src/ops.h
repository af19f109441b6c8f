/* Op records -> kernel parameter structs. Shared by the validator (model.c), which checks
 * the derived values against the tensors, and the dispatcher (run.c), which trusts them. */
#ifndef ECNN_OPS_H
#define ECNN_OPS_H

#include "internal.h"
#include "kernels.h"

/* Exact parameter counts per op type (FORMAT.md); 0xFFFFFFFF for unknown types. */
uint32_t ecnn_op_param_count(uint32_t op_type);

void ecnn_act_from(uint32_t act, float act_p0, float act_p1, ecnn_act_params *a);

/* x, w, y: the op's input, weight and output tensors. */
void ecnn_conv2d_args_from(const ecnn_op_rec *op, const ecnn_tensor_rec *x, const ecnn_tensor_rec *w,
                             const ecnn_tensor_rec *y, ecnn_conv2d_args *p);
void ecnn_pool2d_args_from(const ecnn_op_rec *op, const ecnn_tensor_rec *x, const ecnn_tensor_rec *y,
                             ecnn_pool2d_args *p);

/* Product of dims (element count), in 64 bits. */
uint64_t ecnn_numel(const ecnn_tensor_rec *t);

#endif /* ECNN_OPS_H */
