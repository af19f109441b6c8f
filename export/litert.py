"""Keras -> LiteRT (TensorFlow Lite) conversion, for the benchmark's third engine.

LiteRT gets the same Keras model the ONNX files come from, converted by its own
tool chain: float32 as is, and int8 with its own full-integer post-training
quantization (calibrated on training images, float input and output kept so it
takes the same input contract as every other engine).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgecnn.runtime.errors import EdgecnnError, require


def keras_to_tflite(keras_path: Path, out_path: Path, calibration_images: np.ndarray | None = None) -> Path:
    """Convert a .keras model to a .tflite file; int8 when calibration images are given."""
    tf = require("tensorflow")
    keras = require("keras")
    if not Path(keras_path).is_file():
        raise EdgecnnError(f"Keras model not found: {keras_path}")
    model = keras.models.load_model(keras_path)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if calibration_images is not None:
        if len(calibration_images) == 0:
            raise EdgecnnError("LiteRT int8 conversion needs at least one calibration image")
        images = np.asarray(calibration_images, dtype=np.float32)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([images[i : i + 1]] for i in range(len(images)))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.float32
        converter.inference_output_type = tf.float32
    flatbuffer = converter.convert()
    from edgecnn.runtime.files import write_bytes

    return write_bytes(out_path, flatbuffer)
