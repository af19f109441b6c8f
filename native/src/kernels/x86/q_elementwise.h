/* The loops of kernels/q_elementwise_loops.h on one x86 width (x86/vq_ops.h). The includer
 * defines VQ_BITS (256 or 512), QE_NAME(op) and its code loads and stores (q_load_codes,
 * q_store_codes). */
#include "kernels/x86/vq_ops.h"

#include "kernels/q_elementwise_loops.h"
