/* ft_smtp.c - placeholder until the module lands. */
#include "ft_smtp.h"
