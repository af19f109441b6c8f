// Classify: run a model compiled by edgecnn on a board, and print the class and the time.
//
// Put the model next to this sketch first (the sketch folder's .c files are compiled with it):
//   edgecnn compile --emit-c model_data.c model.onnx      (writes model_data.c and model_data.h)
// The input here is a constant; feed your sensor's values instead.
#include <edgecnn.h>

extern "C" {
#include "model_data.h"
}

static MODEL_DATA_ALIGN64 unsigned char arena[MODEL_DATA_ARENA_BYTES_1 + 1];  // +1: never zero-sized
static float input[MODEL_DATA_INPUT_FLOATS];
static float output[MODEL_DATA_OUTPUT_FLOATS];
static ecnn_model model;
static bool ready = false;

void setup() {
  Serial.begin(115200);
  while (!Serial) {
  }
  ecnn_status st = ecnn_model_init(&model, model_data, MODEL_DATA_BYTES);
  if (st != ECNN_OK) {
    Serial.print("model: ");
    Serial.println(ecnn_status_string(st));
    return;
  }
  Serial.print("edgecnn ");
  Serial.print(ecnn_version());
  Serial.print(", arena bytes: ");
  Serial.println(MODEL_DATA_ARENA_BYTES_1);
  ready = true;
}

void loop() {
  if (!ready) return;
  for (unsigned i = 0; i < MODEL_DATA_INPUT_FLOATS; i++) input[i] = 0.5f;
  unsigned long start = micros();
  ecnn_status st = ecnn_run(&model, 1, input, sizeof input, output, sizeof output, arena, MODEL_DATA_ARENA_BYTES_1);
  unsigned long took = micros() - start;
  if (st != ECNN_OK) {
    Serial.print("run: ");
    Serial.println(ecnn_status_string(st));
    return;
  }
  unsigned best = 0;
  for (unsigned i = 1; i < MODEL_DATA_OUTPUT_FLOATS; i++)
    if (output[i] > output[best]) best = i;
  Serial.print("class ");
  Serial.print(best);
  Serial.print(" in ");
  Serial.print(took);
  Serial.println(" us");
  delay(1000);
}
