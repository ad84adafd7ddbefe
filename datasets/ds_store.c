/* ds_store.c - placeholder until the module lands. */
#include "ds_store.h"
