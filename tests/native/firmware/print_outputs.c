/* Runs the embedded model (model_data.c from `edgecnn compile --emit-c`) on the embedded image
 * (test_image.h, pixels / 255 as the model input) and prints every output as the hex bits of
 * its float32, one a line: the host test compares them bit for bit with Model.predict. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "edgecnn.h"
#include "model_data.h"
#include "test_image.h"

static MODEL_DATA_ALIGN64 unsigned char arena[MODEL_DATA_ARENA_BYTES_1 + 1];
static float input[MODEL_DATA_INPUT_FLOATS];
static float output[MODEL_DATA_OUTPUT_FLOATS];

int main(void)
{
    ecnn_model model;
    ecnn_status st;
    unsigned i;
    uint32_t bits;

    st = ecnn_model_init(&model, model_data, MODEL_DATA_BYTES);
    if (st != ECNN_OK) {
        printf("model: %s\n", ecnn_status_string(st));
        return 2;
    }
    for (i = 0; i < MODEL_DATA_INPUT_FLOATS; i++) input[i] = (float)test_image[i] / 255.0f;
    st = ecnn_run(&model, 1, input, sizeof input, output, sizeof output, arena, MODEL_DATA_ARENA_BYTES_1);
    if (st != ECNN_OK) {
        printf("run: %s\n", ecnn_status_string(st));
        return 1;
    }
    printf("isa %s\n", ecnn_model_isa(&model));
    for (i = 0; i < MODEL_DATA_OUTPUT_FLOATS; i++) {
        memcpy(&bits, &output[i], sizeof bits);
        printf("%08lx\n", (unsigned long)bits);
    }
    return 0;
}
