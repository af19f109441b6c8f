/* The op registry, generated from ECNN_OP_LIST (edgecnn_ops.h): for each file code its name,
 * its parameter count (the size of its struct) and its check and eval (src/ops/<name>.c). */
#include "core/op.h"

/* Each parameter struct is a whole number of 4-byte words (ecnn_no_params: 0 words), and a
 * record's words decode into the union (core/loader.c). */
#define ECNN_OP_ASSERT_(NAME, code, name, params)                                                                      \
    typedef char ecnn_##name##_params_are_words[sizeof(params) % 4u == 0u || sizeof(params) < 4u ? 1 : -1];
ECNN_OP_LIST(ECNN_OP_ASSERT_)
#undef ECNN_OP_ASSERT_
typedef char ecnn_op_params_fit_a_record[sizeof(ecnn_op_params) <= 4u * ECNN_MAX_OP_PARAMS ? 1 : -1];

/* A firmware build for known models can link only their ops, as TFLM's op resolver does:
 * -DECNN_OPS_HEADER=model_data_ops.h (the file name, unquoted so that it survives shells and
 * make; written by `edgecnn compile --emit-c`: ECNN_USES_<NAME> 1 or 0 for every op) leaves the
 * other ops' check and eval unreferenced, so the linker drops them with their kernels; the
 * loader refuses a model that has one. */
#ifdef ECNN_OPS_HEADER
#define ECNN_QUOTE2_(x) #x
#define ECNN_QUOTE_(x) ECNN_QUOTE2_(x)
#include ECNN_QUOTE_(ECNN_OPS_HEADER)
#define ECNN_IF_USED_(NAME, fn) (ECNN_USES_##NAME ? fn : NULL)
#else
#define ECNN_IF_USED_(NAME, fn) fn
#endif

#define ECNN_OP_ENTRY_(NAME, code, name, params)                                                                       \
    [code] = {#NAME, (uint32_t)(sizeof(params) / 4u), ECNN_IF_USED_(NAME, ecnn_check_##name),                          \
              ECNN_IF_USED_(NAME, ecnn_eval_##name)},
static const ecnn_op_def op_table[] = {ECNN_OP_LIST(ECNN_OP_ENTRY_)};
#undef ECNN_OP_ENTRY_

const ecnn_op_def *ecnn_op_def_of(uint32_t op_type)
{
    if (op_type >= sizeof op_table / sizeof op_table[0] || op_table[op_type].name == NULL) return NULL;
    return &op_table[op_type];
}

const char *ecnn_op_name(uint32_t op_type)
{
    const ecnn_op_def *def = ecnn_op_def_of(op_type);
    return def ? def->name : "UNKNOWN";
}
