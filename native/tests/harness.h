/* A tiny self-made test harness: CHECK records a failure and carries on; main() prints
 * "N passed, M failed" and returns non-zero when anything failed. */
#ifndef ECNN_TEST_HARNESS_H
#define ECNN_TEST_HARNESS_H

#include <stdio.h>

extern int harness_checks_failed;
extern int harness_tests_passed;
extern int harness_tests_failed;

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                                   \
            harness_checks_failed++;                                                                                   \
        }                                                                                                              \
    } while (0)

#define CHECK_STATUS(expr, want)                                                                                       \
    do {                                                                                                               \
        int got_ = (int)(expr);                                                                                        \
        if (got_ != (int)(want)) {                                                                                     \
            fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d (%s)\n", __FILE__, __LINE__, #expr, got_,         \
                    ecnn_status_string((ecnn_status)got_), (int)(want), ecnn_status_string((ecnn_status)(want)));      \
            harness_checks_failed++;                                                                                   \
        }                                                                                                              \
    } while (0)

#define RUN_TEST(fn)                                                                                                   \
    do {                                                                                                               \
        int before_ = harness_checks_failed;                                                                           \
        fn();                                                                                                          \
        if (harness_checks_failed == before_) {                                                                        \
            harness_tests_passed++;                                                                                    \
        } else {                                                                                                       \
            harness_tests_failed++;                                                                                    \
            fprintf(stderr, "FAILED: %s\n", #fn);                                                                      \
        }                                                                                                              \
    } while (0)

#endif
