/* an_record.c - placeholder until the module lands. */
#include "an_record.h"
