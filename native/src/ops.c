/* The op table (edgecnn_ops.h ECNN_OP_LIST) and the decoding of op parameters into kernel
 * argument structs (see ops.h). */
#include "ops.h"

typedef struct {
    const char *name;
    uint32_t words; /* parameter words of the record: sizeof(params) / 4 */
} op_entry;

/* Each parameter struct is a whole number of 4-byte words (ecnn_no_params: 0 words). */
#define ECNN_OP_ASSERT_(NAME, code, name, params) \
    typedef char ecnn_##name##_params_are_words[sizeof(params) % 4u == 0u || sizeof(params) < 4u ? 1 : -1];
ECNN_OP_LIST(ECNN_OP_ASSERT_)
#undef ECNN_OP_ASSERT_
typedef char ecnn_op_params_fit_a_record[sizeof(ecnn_op_params) <= 4u * ECNN_MAX_OP_PARAMS ? 1 : -1];

#define ECNN_OP_ENTRY_(NAME, code, name, params) [code] = {#NAME, (uint32_t)(sizeof(params) / 4u)},
static const op_entry op_table[] = {ECNN_OP_LIST(ECNN_OP_ENTRY_)};
#undef ECNN_OP_ENTRY_

static const op_entry *entry_of(uint32_t op_type)
{
    if (op_type >= sizeof op_table / sizeof op_table[0] || op_table[op_type].name == NULL) return NULL;
    return &op_table[op_type];
}

uint32_t ecnn_op_param_count(uint32_t op_type)
{
    const op_entry *e = entry_of(op_type);
    return e ? e->words : 0xFFFFFFFFu;
}

const char *ecnn_op_name(uint32_t op_type)
{
    const op_entry *e = entry_of(op_type);
    return e ? e->name : "UNKNOWN";
}

void ecnn_act_from(uint32_t act, float act_p0, float act_p1, ecnn_act_params *a)
{
    a->act = act;
    a->act_p0 = act_p0;
    a->act_p1 = act_p1;
}

void ecnn_conv2d_args_from(const ecnn_op_rec *op, const ecnn_tensor_rec *x, const ecnn_tensor_rec *w,
                           const ecnn_tensor_rec *y, ecnn_conv2d_args *p)
{
    const ecnn_conv2d_params *q = &op->params.conv_2d;
    p->h = x->dims[0];
    p->w = x->dims[1];
    p->c = x->dims[2];
    p->oh = y->dims[0];
    p->ow = y->dims[1];
    p->o = y->dims[2];
    p->kh = w->dims[1];
    p->kw = w->dims[2];
    p->stride_h = q->stride_h;
    p->stride_w = q->stride_w;
    p->pad_top = q->pad_top;
    p->pad_left = q->pad_left; /* bottom/right padding: implied by OH/OW (checked by the validator) */
    p->dilation_h = q->dilation_h;
    p->dilation_w = q->dilation_w;
    p->group = q->group;
    ecnn_act_from(q->act, q->act_p0, q->act_p1, &p->act);
    p->w_layout = w->layout;
}

void ecnn_pool2d_args_from(const ecnn_op_rec *op, const ecnn_tensor_rec *x, const ecnn_tensor_rec *y,
                           ecnn_pool2d_args *p)
{
    /* MAX_POOL_2D's struct is the common initial sequence of AVG_POOL_2D's (one union: C99 6.5.2.3) */
    const ecnn_max_pool2d_params *q = &op->params.max_pool_2d;
    p->h = x->dims[0];
    p->w = x->dims[1];
    p->c = x->dims[2];
    p->oh = y->dims[0];
    p->ow = y->dims[1];
    p->kh = q->kernel_h;
    p->kw = q->kernel_w;
    p->stride_h = q->stride_h;
    p->stride_w = q->stride_w;
    p->pad_top = q->pad_top;
    p->pad_left = q->pad_left;
    p->dilation_h = q->dilation_h;
    p->dilation_w = q->dilation_w;
    p->pad_bottom = q->pad_bottom;
    p->pad_right = q->pad_right;
    /* bit 1 is the int8 rounding domain, not a count rule */
    p->count_include_pad = op->op_type == ECNN_OP_AVG_POOL_2D ? op->params.avg_pool_2d.count_include_pad & 1u : 0;
}

uint64_t ecnn_numel(const ecnn_tensor_rec *t)
{
    uint64_t n = 1;
    uint32_t i;
    for (i = 0; i < t->rank; i++) n *= t->dims[i];
    return n;
}
