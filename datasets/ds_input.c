/* ds_input.c - placeholder until the module lands. */
#include "ds_input.h"
