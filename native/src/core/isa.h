/* ISA levels: which SIMD kernels may run. One build holds the kernels of every level of its
 * architecture, each kernels/<arch>/<isa> directory compiled with its own flags (native/Makefile
 * defines ECNN_WITH_X86, ECNN_WITH_ARM64 or ECNN_WITH_ARM32 when it compiled them; a build that
 * defines none has the portable level only). ecnn_model_init picks the level once: the best
 * the CPU supports, or a lower one named by EDGECNN_ISA (core/cpu.c), and keeps a pointer to its
 * entry of the constant level table in the model.
 *
 * Each op with fast kernels keeps a config (src/ops/<op>.c): a constant array indexed by level
 * whose rows name a kernel per slot (ECNN_IMPL). A level without a kernel of its own for a slot
 * takes its fallback level's, so adding a kernel for one ISA is one line in its op's config. */
#ifndef ECNN_ISA_H
#define ECNN_ISA_H

#include <stddef.h>
#include <stdint.h>

enum {
    ECNN_ISA_PORTABLE, /* plain C kernels: every build */
#if defined(ECNN_WITH_X86)
    ECNN_ISA_AVX2,       /* AVX2 + FMA */
    ECNN_ISA_AVXVNNI,    /* AVX2 + FMA + AVX-VNNI (VEX) */
    ECNN_ISA_AVX512,     /* AVX-512 F/BW/VL/DQ + FMA */
    ECNN_ISA_AVX512VNNI, /* AVX-512 + AVX512-VNNI */
#elif defined(ECNN_WITH_ARM64)
    ECNN_ISA_NEON,    /* AArch64 Advanced SIMD */
    ECNN_ISA_DOTPROD, /* + the dot product extension (SDOT / UDOT) */
#elif defined(ECNN_WITH_ARM32)
    ECNN_ISA_NEON, /* ARMv7 NEON */
#elif defined(ECNN_WITH_CORTEXM)
    /* Bare-metal Cortex-M builds for one core (native/examples/cortex-m): the levels its flags
     * enable, known at compile time (no run-time detection on a microcontroller). */
    ECNN_ISA_DSP, /* the DSP extension: SMLAD, SXTB16 (M4, M7, M33, M55) */
#if defined(__ARM_FEATURE_MVE)
    ECNN_ISA_MVE, /* + the M-profile Vector Extension, Helium (M55, M85) */
#endif
#endif
    ECNN_ISA_COUNT
};

/* CPU features a level needs (the OS must also save the registers they use). */
enum {
    ECNN_CPU_AVX2 = 1u << 0,       /* AVX2, FMA, PCLMULQDQ; YMM state */
    ECNN_CPU_AVX512 = 1u << 1,     /* AVX-512 F, BW, VL, DQ; ZMM and opmask state */
    ECNN_CPU_AVX512VNNI = 1u << 2, /* AVX512-VNNI */
    ECNN_CPU_AVXVNNI = 1u << 3,    /* AVX-VNNI */
    ECNN_CPU_NEON = 1u << 4,       /* Advanced SIMD */
    ECNN_CPU_DOTPROD = 1u << 5,    /* SDOT / UDOT */
    ECNN_CPU_DSP = 1u << 6,        /* Cortex-M DSP extension */
    ECNN_CPU_MVE = 1u << 7         /* Cortex-M Vector Extension (integer) */
};

typedef struct ecnn_isa_info {
    const char *name;  /* as EDGECNN_ISA spells it */
    uint32_t level;    /* ECNN_ISA_*: the index of the level's entries in the kernel configs */
    uint32_t fallback; /* the level whose entry a config without one for this level uses */
    uint32_t features; /* ECNN_CPU_* bits the level needs */
    int fused_mac;     /* 1: the level's float dot products fuse each term (ecnn_mac, kernels.h) */
} ecnn_isa_info;

/* The levels of this build, index = level. */
extern const ecnn_isa_info ecnn_isa_levels[ECNN_ISA_COUNT];

/* The level for this process: EDGECNN_ISA's (hosted builds) when set, else the best this CPU
 * supports. NULL when EDGECNN_ISA names no level of this build, or one the CPU lacks; *why
 * then says which (a static string). */
const ecnn_isa_info *ecnn_isa_select(const char **why);

/* 1 when this CPU (and OS) supports `level`. */
int ecnn_isa_runs_here(uint32_t level);

/* The level whose row of an op's kernel config (an array of ECNN_ISA_COUNT rows, stride bytes
 * apart) has the kernel of one slot for `isa`: its own level when that row names one, else its
 * fallback's, down to the portable level's, which every config has. first_name: the slot's
 * name in row 0 (rows without a kernel for the slot leave it NULL). */
uint32_t ecnn_isa_entry(const ecnn_isa_info *isa, const char *const *first_name, size_t stride);
#define ECNN_KERNEL(config, slot, isa)                                                                                 \
    (&(config)[ecnn_isa_entry((isa), &(config)[0].slot.name, sizeof(config)[0])].slot)

/* A config slot: the kernel's name (its function's, without "ecnn_") and the function. */
#define ECNN_IMPL(fn)                                                                                                  \
    {                                                                                                                  \
        &(#fn)[5], fn                                                                                                  \
    }

#endif /* ECNN_ISA_H */
