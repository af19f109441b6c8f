"""edgecnn.runtime: run compiled .ecnn models with the native C library.

Needs only numpy and cffi: never imports TensorFlow or onnxruntime.
"""
