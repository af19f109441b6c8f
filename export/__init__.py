"""edgecnn.export: Keras -> ONNX, int8 quantization, and the ONNX -> .ecnn compiler.

Importing this package must stay cheap: TensorFlow, tf2onnx, onnx and
onnxruntime are imported only inside the functions that need them.
"""
