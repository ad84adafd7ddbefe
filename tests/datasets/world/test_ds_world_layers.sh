#!/bin/sh
# test_ds_world_layers.sh - datasets/world/: the generator's files call one
# way only.  ds_world.c (the pass) may call ds_world_mx.c and
# ds_world_out.c; ds_world_mx.c may call ds_world_out.c; ds_world_out.c
# calls neither.  A call the other way, found in the symbols of
# libst_world.a, fails the test and names it.
# Usage: test_ds_world_layers.sh LIBST_WORLD.a
set -eu
lib=${1:?usage: test_ds_world_layers.sh LIBST_WORLD.a}
[ -f "$lib" ] || { echo "FAIL: no such archive: $lib" >&2; exit 1; }
command -v nm >/dev/null || { echo "FAIL: nm not installed (binutils)" >&2; exit 1; }

syms=$(nm -A "$lib")
# defined MEMBER / used MEMBER: the functions MEMBER defines or needs.
defined() { printf '%s\n' "$syms" | awk -v m="$1" -F: '$2 == m { split($3, f, " "); if (f[2] == "T") print f[3] }' | sort -u; }
used() { printf '%s\n' "$syms" | awk -v m="$1" -F: '$2 == m { split($3, f, " "); if (f[1] == "U") print f[2] }' | sort -u; }

fails=0
# forbid CALLER CALLEE: CALLER.c must call nothing CALLEE.c defines.
forbid() {
	d=$(defined "$2.c.o")
	[ -n "$d" ] || { echo "FAIL: $2.c.o defines nothing in $lib" >&2; fails=$((fails + 1)); return; }
	bad=$(printf '%s\n' "$d" | comm -12 - "$tmp/used")
	if [ -n "$bad" ]; then
		echo "FAIL: $1.c calls $2.c:" $bad >&2
		fails=$((fails + 1))
	else
		echo "ok: $1.c calls nothing of $2.c"
	fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for caller in ds_world_mx ds_world_out; do
	used "$caller.c.o" >"$tmp/used"
	[ -s "$tmp/used" ] || { echo "FAIL: $caller.c.o not in $lib" >&2; exit 1; }
	forbid "$caller" ds_world
	[ "$caller" = ds_world_out ] && forbid "$caller" ds_world_mx
done
# The shared helpers are used by both, so they are really shared.
for caller in ds_world ds_world_mx; do
	used "$caller.c.o" >"$tmp/used"
	if printf '%s\n' ds_world_open_out | comm -12 - "$tmp/used" | grep -q .; then
		echo "ok: $caller.c writes through ds_world_out.c"
	else
		echo "FAIL: $caller.c does not use ds_world_open_out" >&2
		fails=$((fails + 1))
	fi
done
[ "$fails" -eq 0 ]
