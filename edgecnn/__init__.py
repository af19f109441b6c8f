"""edgecnn: train a small CNN in Keras, export it to ONNX, quantize it to int8 and run it with a
portable C99 runtime that matches onnxruntime.

The package is layered; each layer imports only the ones below it:

    edgecnn            the command line, the pipeline (`make run`), bench, verify, report
    edgecnn.train      Keras training            edgecnn.export   ONNX export, quantization, compiler
    edgecnn.runtime    the native library bound with cffi: needs numpy and cffi only
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("edgecnn")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
