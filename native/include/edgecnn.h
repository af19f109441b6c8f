/* edgecnn: a small portable C99 inference library for CNNs compiled from ONNX.
 * Placeholder public header: the native runtime issue replaces it. */
#ifndef EDGECNN_H
#define EDGECNN_H

#ifdef __cplusplus
extern "C" {
#endif

/** Library version string, e.g. "0.1.0". */
const char *ecnn_version(void);

#ifdef __cplusplus
}
#endif
#endif /* EDGECNN_H */
