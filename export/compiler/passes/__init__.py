"""Passes over the graph: qdq (ONNX QDQ -> QOperator, before lowering), then on the native
graph fuse (folds), check (int8 kernels exist), prune (dead ops, renumbering) and pack
(weight layouts); cut makes the ONNX sub-models `edgecnn verify` compares."""
