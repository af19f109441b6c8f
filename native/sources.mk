# What the library is built from, in one place. native/Makefile includes this file;
# CMakeLists.txt and the Zephyr module read it (cmake/EdgecnnSources.cmake); `make dist-arduino`
# and `make dist-zephyr` copy the directories it names. tests/native/test_install.py checks that
# Make and CMake compile the same files with the same flags.
#
# Only `NAME = value` lines (words; no make functions, no $(...) references): CMake parses them.

# Directories of src/ every build compiles (every .c file in each).
LIB_DIRS = core ops kernels/ref kernels/portable
# Of those, the code compiled for size (COLD_OPT): it runs once per model load or once per op
# call, or is a reference kernel (the oracle, and the fallback no fast kernel covers).
COLD_DIRS = core ops kernels/ref
# Firmware packages (Arduino / PlatformIO library, Zephyr module): no ISA directories, since
# those tools compile every file with one set of flags.
FIRMWARE_DIRS = core ops kernels/ref kernels/portable

# Every file: C99, and no contraction into FMA (results must match onnxruntime; the only fused
# multiply-adds are the explicit ones, ecnn_mac in src/kernels/kernels.h).
STD_FLAGS = -std=c99 -ffp-contract=off
WARN_FLAGS = -Wall -Wextra -Werror -pedantic
# No unwind tables (C throws no exceptions; a firmware image has no use for .eh_frame) and no
# code alignment padding; each flag is used where the compiler has it.
LIB_FLAGS_IF_SUPPORTED = -fno-asynchronous-unwind-tables -fno-unwind-tables -fno-align-functions -fno-align-jumps -fno-align-loops -fno-align-labels
# COLD_DIRS' optimisation: the first of these the compiler has.
COLD_OPT_CHOICES = -Oz -Os

# Architecture families: the target triplets (`cc -dumpmachine`; % matches anything) of each,
# tried in this order. A family's ISA directories are compiled with -DECNN_WITH_<family>.
ISA_FAMILIES = X86 ARM64 ARM32
MACHINES_X86 = x86_64% i686% i586% i386%
MACHINES_ARM64 = aarch64%
MACHINES_ARM32 = arm%

# ISA directories of src/kernels per family (one build for every CPU of the family, the level
# picked at run time: src/core/isa.h), each compiled with FLAGS_<family>_<directory>.
ISA_DIRS_X86 = x86/avx2 x86/avx512 x86/avx512vnni x86/avxvnni
ISA_DIRS_ARM64 = arm/neon arm/dotprod
# The armv7 NEON level is detected, but no kernel of its own yet: ARMv7 NEON float arithmetic
# flushes subnormals to zero, so the float NEON kernels are not bit-identical to the VFP
# reference there (tests/test_kernels_fc.c test_f32_subnormals). Its kernels (int8) go in arm/neon.
ISA_DIRS_ARM32 =

FLAGS_X86_x86/avx2 = -mavx2 -mfma -mpclmul
FLAGS_X86_x86/avx512 = -mavx2 -mfma -mavx512f -mavx512bw -mavx512vl -mavx512dq
FLAGS_X86_x86/avx512vnni = -mavx2 -mfma -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni
FLAGS_X86_x86/avxvnni = -mavx2 -mfma -mavxvnni
FLAGS_ARM64_arm/neon =
FLAGS_ARM64_arm/dotprod = -march=armv8.2-a+dotprod
FLAGS_ARM32_arm/neon = -mfpu=neon
