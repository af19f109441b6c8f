#include "edgecnn.h"

const char *ecnn_version(void)
{
    return "0.1.0";
}
