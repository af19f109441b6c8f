/* Firmware-style edgecnn: no filesystem, no heap.
 *
 * The model is a const array in read-only data (model_data.c from
 * `edgecnn compile --emit-c model_data.c MODEL.onnx`), the arena a static array sized by the
 * generated macro, the image a const array (test_image.h: TEST_IMAGE_PIXELS uint8 pixels,
 * row-major, 0..255). Prints the class index (and the Fashion-MNIST name for 10 classes).
 * Only printf is used from the C library, to report the result. */
#include <stdio.h>

#include "edgecnn.h"
#include "model_data.h"
#include "test_image.h"

#if TEST_IMAGE_PIXELS != MODEL_DATA_INPUT_FLOATS
#error "test_image.h does not match the model input"
#endif

static const char *const FASHION_MNIST[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                              "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

/* +1: a valid array even for a model with no arena (ecnn_run accepts any size then). */
static MODEL_DATA_ALIGN64 unsigned char arena[MODEL_DATA_ARENA_BYTES_1 + 1];
static float input[MODEL_DATA_INPUT_FLOATS];
static float output[MODEL_DATA_OUTPUT_FLOATS];

int main(void)
{
    ecnn_model model;
    ecnn_status st;
    unsigned i, best = 0;

    st = ecnn_model_init(&model, model_data, MODEL_DATA_BYTES);
    if (st != ECNN_OK) {
        int32_t op, tensor;
        const char *why = ecnn_model_error(&model, &op, &tensor);
        printf("model: %s (op %ld: %s)\n", ecnn_status_string(st), (long)op, why);
        return 2;
    }
    for (i = 0; i < MODEL_DATA_INPUT_FLOATS; i++) input[i] = (float)test_image[i] / 255.0f; /* input contract */
    st = ecnn_run(&model, 1, input, sizeof input, output, sizeof output, arena, MODEL_DATA_ARENA_BYTES_1);
    if (st != ECNN_OK) {
        printf("run: %s\n", ecnn_status_string(st));
        return 1;
    }
    for (i = 1; i < MODEL_DATA_OUTPUT_FLOATS; i++)
        if (output[i] > output[best]) best = i;
    printf("class %u %s\n", best, MODEL_DATA_OUTPUT_FLOATS == 10 ? FASHION_MNIST[best] : "");
    return 0;
}
