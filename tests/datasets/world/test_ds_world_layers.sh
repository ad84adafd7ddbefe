#!/usr/bin/env bash
# test_ds_world_layers.sh - datasets/world/: the generator's files call one
# way only (ds_world_int.h).  ds_world_gen.c (the pass) calls the others;
# ds_world.c (one domain's records, policy host, truth) and ds_world_mx.c
# (the MX hosts, Postfix) call nothing of each other nor of
# ds_world_gen.c; ds_world_out.c (the output helpers) calls none of them.
# A call the other way, found in the symbols of libst_world.a, fails the
# test and names it.
# Usage: test_ds_world_layers.sh LIBST_WORLD.a
set -euo pipefail
lib=${1:?usage: test_ds_world_layers.sh LIBST_WORLD.a}
# ok, bad, finish, need_tools, the scratch directory: tests/lib/world.sh.
# shellcheck source=../../lib/world.sh
. "$(dirname "$0")/../../lib/world.sh"
[ -f "$lib" ] || die "no such archive: $lib"
need_tools nm:binutils
lib_tmpdir layers
nm -A "$lib" >"$tmp/syms"
# defined M / used M: the functions member M.c.o defines or needs.
defined() { awk -v m="$1.c.o" -F: '$2 == m { split($3, f, " "); if (f[2] == "T") print f[3] }' "$tmp/syms" | sort -u; }
used() { awk -v m="$1.c.o" -F: '$2 == m { split($3, f, " "); if (f[1] == "U") print f[2] }' "$tmp/syms" | sort -u; }

# forbid CALLER CALLEE: CALLER.c must call nothing CALLEE.c defines.
forbid() {
	defined "$2" >"$tmp/def"
	used "$1" >"$tmp/used"
	if [ ! -s "$tmp/def" ] || [ ! -s "$tmp/used" ]; then
		bad "$1.c.o or $2.c.o missing from $lib"
		return
	fi
	calls=$(comm -12 "$tmp/def" "$tmp/used" | tr '\n' ' ')
	if [ -n "$calls" ]; then
		bad "$1.c calls $2.c: $calls"
	else
		ok "$1.c calls nothing of $2.c"
	fi
}
# need CALLER CALLEE: CALLER.c does call CALLEE.c (the test sees calls).
need() {
	defined "$2" >"$tmp/def"
	used "$1" >"$tmp/used"
	if comm -12 "$tmp/def" "$tmp/used" | grep -q .; then
		ok "$1.c calls $2.c"
	else
		bad "$1.c calls nothing of $2.c"
	fi
}
forbid ds_world ds_world_mx
forbid ds_world_mx ds_world
forbid ds_world ds_world_gen
forbid ds_world_mx ds_world_gen
for callee in ds_world ds_world_mx ds_world_gen; do
	forbid ds_world_out "$callee"
done
for caller in ds_world ds_world_mx ds_world_gen; do
	need "$caller" ds_world_out
done
need ds_world_gen ds_world
need ds_world_gen ds_world_mx
finish
