/**
 * @file edgecnn_ops.h
 * @brief The op table of the .ecnn format (docs/file-format.md): op codes, the parameter struct of
 *        each op, and the enumerations that tensor records and parameters use.
 *
 * One source for everything that names an op or a parameter: the C loader decodes an op
 * record's parameter words into the op's struct below, the registry of op checks and kernels
 * is generated from ECNN_OP_LIST, and the Python side (runtime/_build_ffi.py parses this file
 * for cffi; runtime/optable.py reads the result) takes codes, field names and field types
 * from here.
 *
 * Shape rules, which the Python parser relies on (it refuses anything else):
 * - a parameter struct is `typedef struct { ... } ecnn_<name>_params;` whose fields are
 *   uint32_t, int32_t, float or ecnn_bits32, or fixed arrays of them (one declaration may name
 *   several): 4 bytes each, in the order of the record's parameter words, so the record's words
 *   map 1:1 onto the struct;
 * - an op without parameters uses ecnn_no_params (0 words);
 * - ECNN_OP_LIST has one X(NAME, code, name, params) line per op, `name` being NAME in lower
 *   case; enums are `typedef enum { ECNN_<PREFIX>_<NAME> = <int>, ... } ecnn_<type>;`.
 */
#ifndef EDGECNN_OPS_H
#define EDGECNN_OPS_H

#include <stdint.h>

/** Tensor kinds (tensor record byte 0). */
typedef enum {
    ECNN_KIND_INPUT = 1,      /**< the caller's input buffer */
    ECNN_KIND_OUTPUT = 2,     /**< the caller's output buffer */
    ECNN_KIND_ACTIVATION = 3, /**< intermediate result in the arena */
    ECNN_KIND_CONSTANT = 4,   /**< weights, in the model buffer */
    ECNN_KIND_SCRATCH = 5     /**< per-op working memory in the arena */
} ecnn_kind;

/** Element types (tensor record byte 1). */
typedef enum { ECNN_DTYPE_F32 = 1, ECNN_DTYPE_I8 = 2, ECNN_DTYPE_U8 = 3, ECNN_DTYPE_I32 = 4 } ecnn_dtype;

/** Weight layouts of CONSTANT tensors (tensor record byte 44, docs/file-format.md "Packed weights"). */
typedef enum {
    ECNN_LAYOUT_PLAIN = 0,          /**< as the op defines: FC [O,K], conv OHWI */
    ECNN_LAYOUT_FC_PANEL16 = 1,     /**< f32 FC: ceil(O/16) panels of [K][16] outputs, zero padded */
    ECNN_LAYOUT_FC_PANEL8X4 = 2,    /**< i8 FC: ceil(O/8) panels of [ceil(K/4)][8][4], zero padded */
    ECNN_LAYOUT_CONV_HWIO = 3,      /**< conv: [KH,KW,C/group,O] (output channel innermost) */
    ECNN_LAYOUT_FC_PANEL8X4_W64 = 4 /**< FC_PANEL8X4 with every weight in [-64, 64] (the loader checks) */
} ecnn_layout;

/** Activation codes (param `act` of CONV_2D, FULLY_CONNECTED, ADD, MUL, ACTIVATION). */
typedef enum {
    ECNN_ACT_NONE = 0,
    ECNN_ACT_RELU = 1,         /**< max(x, 0) */
    ECNN_ACT_LEAKY_RELU = 2,   /**< x < 0 ? act_p0 * x : x */
    ECNN_ACT_CLIP = 3,         /**< min(max(x, act_p0), act_p1) */
    ECNN_ACT_SIGMOID = 4,      /**< 1 / (1 + exp(-x)) */
    ECNN_ACT_TANH = 5,         /**< tanh(x) */
    ECNN_ACT_HARD_SIGMOID = 6, /**< max(0, min(1, act_p0 * x + act_p1)) */
    ECNN_ACT_HARD_SWISH = 7,   /**< x * max(0, min(1, x / 6 + 0.5)) */
    ECNN_ACT_SWISH = 8         /**< x * sigmoid(x) (SiLU): the Sigmoid's value, then one multiply */
} ecnn_activation;

/** Functions of CHANNEL_ARITH (param `func`); MUL_ADD and MUL_ADD_RELU read a third input B:
 * x * k, rounded, + b, rounded (then Relu). */
typedef enum {
    ECNN_ARITH_ADD = 1,
    ECNN_ARITH_SUB = 2,
    ECNN_ARITH_MUL = 3,
    ECNN_ARITH_DIV = 4,
    ECNN_ARITH_MUL_ADD = 5,
    ECNN_ARITH_MUL_ADD_RELU = 6
} ecnn_arith;

/** A parameter word that holds an f32 bit pattern or a signed code, as the op's tensors say
 * (PAD's value). */
typedef union {
    uint32_t u32;
    int32_t i32;
    float f32;
} ecnn_bits32;

/** Ops without parameters: 0 words (sizeof / 4 == 0). */
typedef struct {
    uint8_t none;
} ecnn_no_params;

/** A fused activation: FULLY_CONNECTED, ACTIVATION, ADD, MUL. */
typedef struct {
    uint32_t act; /**< ecnn_activation */
    float act_p0; /**< LeakyRelu alpha, Clip min, HardSigmoid alpha; else 0 */
    float act_p1; /**< Clip max, HardSigmoid beta; else 0 */
} ecnn_act_params;

/** CONV_2D. */
typedef struct {
    uint32_t stride_h, stride_w;
    uint32_t pad_top, pad_left, pad_bottom, pad_right;
    uint32_t dilation_h, dilation_w;
    uint32_t group;
    uint32_t act; /**< ecnn_activation, and its parameters as in ecnn_act_params */
    float act_p0, act_p1;
} ecnn_conv2d_params;

/** MAX_POOL_2D. */
typedef struct {
    uint32_t kernel_h, kernel_w;
    uint32_t stride_h, stride_w;
    uint32_t pad_top, pad_left, pad_bottom, pad_right;
    uint32_t dilation_h, dilation_w;
} ecnn_max_pool2d_params;

/** AVG_POOL_2D: MAX_POOL_2D's window, then count_include_pad (bit 0; bit 1 on i8: round as
 * uint8 codes, docs/file-format.md). */
typedef struct {
    uint32_t kernel_h, kernel_w, stride_h, stride_w;
    uint32_t pad_top, pad_left, pad_bottom, pad_right, dilation_h, dilation_w;
    uint32_t count_include_pad;
} ecnn_avg_pool2d_params;

/** CHANNEL_ARITH. */
typedef struct {
    uint32_t func;        /**< ecnn_arith */
    uint32_t const_first; /**< 0: x op k, 1: k op x */
} ecnn_channel_arith_params;

/** CONCAT. */
typedef struct {
    uint32_t axis;
} ecnn_concat_params;

/** PAD. */
typedef struct {
    uint32_t before[5];
    uint32_t after[5];
    ecnn_bits32 value; /**< f32 bits for f32 tensors, the i32 code for i8/u8 */
} ecnn_pad_params;

/** TRANSPOSE. */
typedef struct {
    uint32_t perm[5];
} ecnn_transpose_params;

/** CONV_TRANSPOSE_2D: the transposed convolution (ONNX ConvTranspose, 2-D). The output size
 * is stride * (H - 1) + output_pad + dilation * (K - 1) + 1 - pad_begin - pad_end per axis. */
typedef struct {
    uint32_t stride_h, stride_w;
    uint32_t pad_top, pad_left, pad_bottom, pad_right;
    uint32_t dilation_h, dilation_w;
    uint32_t group;
    uint32_t output_pad_h, output_pad_w;
} ecnn_conv_transpose2d_params;

/** RESIZE_2D modes (param `mode`). */
typedef enum { ECNN_RESIZE_NEAREST = 0, ECNN_RESIZE_LINEAR = 1, ECNN_RESIZE_CUBIC = 2 } ecnn_resize_mode;

/** RESIZE_2D coordinate transformations (param `coord`): an output index to an input coordinate,
 * as ONNX Resize's coordinate_transformation_mode. */
typedef enum {
    ECNN_COORD_HALF_PIXEL = 0,
    ECNN_COORD_ALIGN_CORNERS = 1,
    ECNN_COORD_ASYMMETRIC = 2,
    ECNN_COORD_PYTORCH_HALF_PIXEL = 3,
    ECNN_COORD_HALF_PIXEL_SYMMETRIC = 4,
    ECNN_COORD_TF_HALF_PIXEL_FOR_NN = 5,
    ECNN_COORD_TF_CROP_AND_RESIZE = 6 /**< the roi_* window; outside the input: `extrapolation` */
} ecnn_resize_coord;

/** RESIZE_2D nearest pixel rules (param `nearest_mode`); SIMPLE is opset 10's: ceil when
 * downsampling the axis (scale < 1), else floor. */
typedef enum {
    ECNN_NEAREST_ROUND_PREFER_FLOOR = 0,
    ECNN_NEAREST_ROUND_PREFER_CEIL = 1,
    ECNN_NEAREST_FLOOR = 2,
    ECNN_NEAREST_CEIL = 3,
    ECNN_NEAREST_SIMPLE = 4
} ecnn_nearest_mode;

/** RESIZE_2D: X [H,W,C] to Y [OH,OW,C]; scale_h / scale_w are ONNX's scales (OH / H when the
 * model gives sizes), which the coordinate transformations divide by. */
typedef struct {
    uint32_t mode;         /**< ecnn_resize_mode */
    uint32_t coord;        /**< ecnn_resize_coord */
    uint32_t nearest_mode; /**< ecnn_nearest_mode (nearest only; else 0) */
    float scale_h, scale_w;
    float cubic_a;                        /**< cubic only (ONNX cubic_coeff_a); else 0 */
    uint32_t exclude_outside;             /**< cubic only: 1 = taps outside X get weight 0, the rest renormalised */
    float roi_h0, roi_h1, roi_w0, roi_w1; /**< TF_CROP_AND_RESIZE only (fractions of in - 1); else 0 */
    float extrapolation;                  /**< TF_CROP_AND_RESIZE only; else 0 */
} ecnn_resize2d_params;

/** CONV_INTEGER_2D: ONNX ConvInteger (and MatMulInteger as a 1x1 one): int32 sums of
 * (x - x_zero_point) * (w - w_zero_point[o]) over CONV_2D's window. */
typedef struct {
    uint32_t stride_h, stride_w;
    uint32_t pad_top, pad_left, pad_bottom, pad_right;
    uint32_t dilation_h, dilation_w;
    uint32_t group;
    int32_t x_zero_point; /**< in X's dtype's range */
} ecnn_conv_integer2d_params;

/** CONV_2D_SLICED: a float CONV_2D summed in onnxruntime's MLAS order (docs/file-format.md): K in
 * (channel, row, column) order cut into slices of k_slice terms, each slice a chain of
 * multiply-adds from zero, the slices added in order, then the bias and the activation.
 * CONV_2D's fields (ecnn_conv2d_params), then k_slice. */
typedef struct {
    uint32_t stride_h, stride_w, pad_top, pad_left, pad_bottom, pad_right, dilation_h, dilation_w, group;
    uint32_t act;
    float act_p0, act_p1;
    uint32_t k_slice; /**< terms per slice, >= 1 */
} ecnn_conv2d_sliced_params;

/** Every op: X(NAME, file code, name, parameter struct). A new op is one line here, its struct
 * above and its file native/src/ops/<name>.c. */
#define ECNN_OP_LIST(X)                                                                                                \
    X(CONV_2D, 1, conv_2d, ecnn_conv2d_params)                                                                         \
    X(MAX_POOL_2D, 2, max_pool_2d, ecnn_max_pool2d_params)                                                             \
    X(FULLY_CONNECTED, 3, fully_connected, ecnn_act_params)                                                            \
    X(SOFTMAX, 4, softmax, ecnn_no_params)                                                                             \
    X(RESHAPE, 5, reshape, ecnn_no_params)                                                                             \
    X(ACTIVATION, 6, activation, ecnn_act_params)                                                                      \
    X(AVG_POOL_2D, 7, avg_pool_2d, ecnn_avg_pool2d_params)                                                             \
    X(ADD, 8, add, ecnn_act_params)                                                                                    \
    X(QUANTIZE, 9, quantize, ecnn_no_params)                                                                           \
    X(DEQUANTIZE, 10, dequantize, ecnn_no_params)                                                                      \
    X(CHANNEL_ARITH, 11, channel_arith, ecnn_channel_arith_params)                                                     \
    X(CONCAT, 12, concat, ecnn_concat_params)                                                                          \
    X(PAD, 13, pad, ecnn_pad_params)                                                                                   \
    X(TRANSPOSE, 14, transpose, ecnn_transpose_params)                                                                 \
    X(MUL, 15, mul, ecnn_act_params)                                                                                   \
    X(PRELU, 16, prelu, ecnn_no_params)                                                                                \
    X(CONV_TRANSPOSE_2D, 17, conv_transpose_2d, ecnn_conv_transpose2d_params)                                          \
    X(RESIZE_2D, 18, resize_2d, ecnn_resize2d_params)                                                                  \
    X(CONV_INTEGER_2D, 19, conv_integer_2d, ecnn_conv_integer2d_params)                                                \
    X(FULLY_CONNECTED_G4, 20, fully_connected_g4, ecnn_act_params)                                                     \
    X(CONV_2D_SLICED, 21, conv_2d_sliced, ecnn_conv2d_sliced_params)

/** Op types; values as in the file. The tensors' dtypes select the kernel (docs/file-format.md). */
typedef enum {
#define ECNN_OP_CODE_(NAME, code, name, params) ECNN_OP_##NAME = code,
    ECNN_OP_LIST(ECNN_OP_CODE_)
#undef ECNN_OP_CODE_
} ecnn_op_type;

/** The parameters of one op record, decoded: the member named after its op. */
typedef union {
#define ECNN_OP_MEMBER_(NAME, code, name, params) params name;
    ECNN_OP_LIST(ECNN_OP_MEMBER_)
#undef ECNN_OP_MEMBER_
} ecnn_op_params;

#endif /* EDGECNN_OPS_H */
