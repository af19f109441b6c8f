/* The ISA levels of this build (core/isa.h) and the choice of one for this process: what the
 * CPU and OS support, detected at each ecnn_model_init (a few instructions, no global state),
 * or the level EDGECNN_ISA names. Detection: CPUID and XGETBV on x86 (the OS must save the YMM
 * / ZMM registers); getauxval(AT_HWCAP) on Linux ARM; elsewhere (bare metal, other OSes) the
 * features the compiler targets. */
#include <stdlib.h>
#include <string.h>

#include "core/isa.h"
#include "edgecnn.h"
#include "kernels/kernels.h" /* ECNN_FUSED_MAC */

#if defined(ECNN_WITH_X86) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define ECNN_DETECT_X86 1
#elif (defined(ECNN_WITH_ARM64) || defined(ECNN_WITH_ARM32)) && defined(__linux__)
#include <sys/auxv.h>
#define ECNN_DETECT_AUXV 1
#endif

/* The portable level rounds as the build's baseline flags (kernels.h ECNN_FUSED_MAC); every x86
 * SIMD level has FMA; ARMv7 NEON has none (VFPv4 would add it). */
#ifdef ECNN_FUSED_MAC
#define BASE_FUSED 1
#else
#define BASE_FUSED 0
#endif

const ecnn_isa_info ecnn_isa_levels[ECNN_ISA_COUNT] = {
    {"portable", ECNN_ISA_PORTABLE, ECNN_ISA_PORTABLE, 0, BASE_FUSED},
#if defined(ECNN_WITH_X86)
    {"avx2", ECNN_ISA_AVX2, ECNN_ISA_PORTABLE, ECNN_CPU_AVX2, 1},
    {"avxvnni", ECNN_ISA_AVXVNNI, ECNN_ISA_AVX2, ECNN_CPU_AVX2 | ECNN_CPU_AVXVNNI, 1},
    {"avx512", ECNN_ISA_AVX512, ECNN_ISA_AVX2, ECNN_CPU_AVX2 | ECNN_CPU_AVX512, 1},
    {"avx512vnni", ECNN_ISA_AVX512VNNI, ECNN_ISA_AVX512, ECNN_CPU_AVX2 | ECNN_CPU_AVX512 | ECNN_CPU_AVX512VNNI, 1},
#elif defined(ECNN_WITH_ARM64)
    {"neon", ECNN_ISA_NEON, ECNN_ISA_PORTABLE, ECNN_CPU_NEON, 1},
    {"dotprod", ECNN_ISA_DOTPROD, ECNN_ISA_NEON, ECNN_CPU_NEON | ECNN_CPU_DOTPROD, 1},
#elif defined(ECNN_WITH_ARM32)
    {"neon", ECNN_ISA_NEON, ECNN_ISA_PORTABLE, ECNN_CPU_NEON, BASE_FUSED},
#elif defined(ECNN_WITH_CORTEXM)
    {"dsp", ECNN_ISA_DSP, ECNN_ISA_PORTABLE, ECNN_CPU_DSP, BASE_FUSED},
#if defined(__ARM_FEATURE_MVE)
    {"mve", ECNN_ISA_MVE, ECNN_ISA_DSP, ECNN_CPU_DSP | ECNN_CPU_MVE, BASE_FUSED},
#endif
#endif
};

/* "EDGECNN_ISA is not a level of this build (portable avx2 ...)": the names, spelled once. */
#if defined(ECNN_WITH_X86)
#define LEVEL_NAMES "portable, avx2, avxvnni, avx512, avx512vnni"
#elif defined(ECNN_WITH_ARM64)
#define LEVEL_NAMES "portable, neon, dotprod"
#elif defined(ECNN_WITH_ARM32)
#define LEVEL_NAMES "portable, neon"
#elif defined(ECNN_WITH_CORTEXM) && defined(__ARM_FEATURE_MVE)
#define LEVEL_NAMES "portable, dsp, mve"
#elif defined(ECNN_WITH_CORTEXM)
#define LEVEL_NAMES "portable, dsp"
#else
#define LEVEL_NAMES "portable"
#endif

#if defined(ECNN_DETECT_X86)
static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t)hi << 32 | lo;
}

static uint32_t cpu_features(void)
{
    unsigned a, b, c, d;
    uint32_t f = 0;
    uint64_t xcr0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    /* OSXSAVE, AVX, FMA, PCLMULQDQ */
    if (!(c >> 27 & 1u) || !(c >> 28 & 1u) || !(c >> 12 & 1u) || !(c >> 1 & 1u)) return 0;
    xcr0 = xgetbv0();
    if ((xcr0 & 0x6u) != 0x6u) return 0; /* the OS saves XMM and YMM */
    if (__get_cpuid_max(0, NULL) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    if (!(b >> 5 & 1u)) return 0; /* AVX2 */
    f |= ECNN_CPU_AVX2;
    /* AVX-512 F (b16), DQ (b17), BW (b30), VL (b31); the OS saves opmask, ZMM_Hi256, Hi16_ZMM */
    if ((b >> 16 & 1u) && (b >> 17 & 1u) && (b >> 30 & 1u) && (b >> 31 & 1u) && (xcr0 & 0xE0u) == 0xE0u) {
        f |= ECNN_CPU_AVX512;
        if (c >> 11 & 1u) f |= ECNN_CPU_AVX512VNNI;
    }
    if (a >= 1) { /* leaf 7 has sub-leaf 1 */
        __cpuid_count(7, 1, a, b, c, d);
        if (a >> 4 & 1u) f |= ECNN_CPU_AVXVNNI;
    }
    return f;
}
#elif defined(ECNN_DETECT_AUXV)
static uint32_t cpu_features(void)
{
    const unsigned long hwcap = getauxval(AT_HWCAP);
    uint32_t f = 0;
#if defined(ECNN_WITH_ARM64)
    if (hwcap & (1ul << 1)) f |= ECNN_CPU_NEON;     /* HWCAP_ASIMD */
    if (hwcap & (1ul << 20)) f |= ECNN_CPU_DOTPROD; /* HWCAP_ASIMDDP */
#else
    if (hwcap & (1ul << 12)) f |= ECNN_CPU_NEON; /* HWCAP_NEON */
#endif
    return f;
}
#else
/* No way to ask (bare metal, other OSes, x86 compilers without <cpuid.h>): what the compiler
 * targets for the whole build. */
static uint32_t cpu_features(void)
{
    uint32_t f = 0;
#if defined(__ARM_NEON)
    f |= ECNN_CPU_NEON;
#endif
#if defined(__ARM_FEATURE_DOTPROD)
    f |= ECNN_CPU_DOTPROD;
#endif
#if defined(__ARM_FEATURE_DSP) && defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
    f |= ECNN_CPU_DSP;
#endif
#if defined(__ARM_FEATURE_MVE)
    f |= ECNN_CPU_MVE;
#endif
    return f;
}
#endif

int ecnn_isa_runs_here(uint32_t level)
{
    const uint32_t need = level < ECNN_ISA_COUNT ? ecnn_isa_levels[level].features : 0xFFFFFFFFu;
    return (need & ~cpu_features()) == 0;
}

const ecnn_isa_info *ecnn_isa_select(const char **why)
{
    const uint32_t have = cpu_features();
    const char *want = NULL;
    uint32_t l;
#if defined(__STDC_HOSTED__) && __STDC_HOSTED__
    want = getenv("EDGECNN_ISA");
#endif
    if (want != NULL && want[0] != '\0') {
        for (l = 0; l < ECNN_ISA_COUNT; l++)
            if (strcmp(want, ecnn_isa_levels[l].name) == 0) break;
        if (l == ECNN_ISA_COUNT) {
            *why = "EDGECNN_ISA is not a level of this build (" LEVEL_NAMES ")";
            return NULL;
        }
        if ((ecnn_isa_levels[l].features & ~have) != 0) {
            *why = "EDGECNN_ISA names a level this CPU (or its OS) does not support";
            return NULL;
        }
        return &ecnn_isa_levels[l];
    }
    /* The best level the CPU supports: the one with the most features (later entries of a
     * family add features to earlier ones; on a tie the later entry). */
    {
        uint32_t best = ECNN_ISA_PORTABLE, best_bits = 0;
        for (l = 0; l < ECNN_ISA_COUNT; l++) {
            const uint32_t need = ecnn_isa_levels[l].features;
            uint32_t bits = 0, v;
            if ((need & ~have) != 0) continue;
            for (v = need; v != 0; v &= v - 1) bits++;
            if (bits >= best_bits) {
                best = l;
                best_bits = bits;
            }
        }
        return &ecnn_isa_levels[best];
    }
}

uint32_t ecnn_isa_entry(const ecnn_isa_info *isa, const char *const *first_name, size_t stride)
{
    uint32_t l = isa->level;
    while (l != ECNN_ISA_PORTABLE && l < ECNN_ISA_COUNT &&
           *(const char *const *)((const char *)first_name + (size_t)l * stride) == NULL)
        l = ecnn_isa_levels[l].fallback;
    return l < ECNN_ISA_COUNT ? l : ECNN_ISA_PORTABLE;
}
