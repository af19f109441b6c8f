# `make cortex-m` (top Makefile): the int8 models on emulated Cortex-M4F and Cortex-M55 cores,
# compared with the host library and measured (native/examples/cortex-m/README.md).
#
#   make -f native/cortex-m.mk PY=.venv/bin/python [WORK=build/cortex-m] [MODELS="..."] [CORES="m4 m55"]
#
# Needs arm-none-eabi-gcc, picolibc and qemu-system-arm (the top Makefile's packaging-deps) and
# the package with its train extra (models.py trains, exports and quantizes).
PY     ?= python3
WORK   ?= build/cortex-m
# the QDQ models with float input and output, then full-integer TFLite ones (int8 codes in and
# out; ad_fc_autoencoder_tflite, 843 KB of flash with its float first and last layers, does not
# fit the AN547's 512 KiB: CORES=m4 only)
MODELS ?= reference ic_resnet8 kws_dscnn vww_mobilenetv1 ad_fc_autoencoder \
          ic_resnet8_tflite kws_dscnn_tflite vww_mobilenetv1_tflite
TFLM_MODELS = $(filter-out reference %_tflite,$(MODELS))
CORES  ?= m4 m55
EXAMPLE := $(dir $(lastword $(MAKEFILE_LIST)))examples/cortex-m

.PHONY: cortex-m cortex-m-kernel-test cortex-m-models
cortex-m: cortex-m-kernel-test cortex-m-models
	$(PY) $(EXAMPLE)/run.py --work $(WORK) --models $(MODELS) --cores $(CORES)
	$(if $(TFLM_MODELS),$(PY) $(EXAMPLE)/tflm_arena.py --work $(WORK) --models $(TFLM_MODELS))

# The DSP and MVE kernels against the portable ones, on each emulated core.
cortex-m-kernel-test:
	@for core in $(CORES); do \
		printf 'cortex-%s kernels: ' $$core; \
		$(MAKE) -s --no-print-directory -C $(EXAMPLE) CORE=$$core OUT=$(abspath $(WORK))/kernel-test/$$core kernel-test || exit 1; \
	done

# The models (kept in WORK/models once made).
cortex-m-models:
	$(PY) $(EXAMPLE)/models.py --work $(WORK) --only $(MODELS)
