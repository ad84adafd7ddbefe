#!/usr/bin/env bash
# The skip rule of the tests themselves (tests/lib/skip.sh, docs/testing.md):
# outside CI a missing tool skips (exit 77, or a SKIP line for a part of a
# test); with CI=true it fails (exit 1, or a counted failure); an allowed
# skip (skip) stays exit 77 either way.  And the same for the C tests'
# function (tests/lib/test_ci.h), through test_ft_fetch without nginx on PATH.
# Usage: test_skip.sh [PATH/TO/test_ft_fetch]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
lib=$here/../lib/skip.sh
pass=0
fail=0
expect() { # expect DESC WANT_RC WANT_OUTPUT_REGEX CMD...
	local desc=$1 want=$2 re=$3 rc=0 out
	shift 3
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" -eq "$want" ] && tr "\n" " " <<<"$out" | grep -Eq -- "$re"; then
		pass=$((pass + 1))
		echo "ok - $desc"
	else
		fail=$((fail + 1))
		echo "FAIL - $desc (exit $rc, want $want; output: $out)"
	fi
}
# in_lib CI SNIPPET: run SNIPPET in bash with skip.sh sourced and a `bad`
# that counts, as world.sh's does; prints "bad=N" at the end.
in_lib() {
	env CI="$1" bash -c '
		n=0; bad() { n=$((n + 1)); echo "FAIL - $*"; }
		. "$1"; '"$2"'; echo "bad=$n"' _ "$lib"
}

expect "outside CI a missing tool skips (77)" 77 '^SKIP: nsd not installed' \
	in_lib "" 'missing "nsd not installed"'
expect "with CI=true a missing tool fails (1)" 1 '^FAIL: nsd not installed .*CI=true' \
	in_lib true 'missing "nsd not installed"'
expect "CI=false is not CI: skips" 77 '^SKIP: ' \
	in_lib false 'missing "nsd not installed"'
expect "an allowed skip stays 77 in CI" 77 '^SKIP: not root' \
	in_lib true 'skip "not root"'
expect "outside CI a missing part prints SKIP and counts nothing" 0 \
	'SKIP: chromium not installed.*bad=0' \
	in_lib "" 'missing_part "chromium not installed"'
expect "with CI=true a missing part is a counted failure" 0 \
	'FAIL - chromium not installed.*CI=true.*bad=1' \
	in_lib true 'missing_part "chromium not installed"'

if [ -n "${1:-}" ]; then
	# nginx off PATH: a PATH with only what the test itself needs.
	bin=$(mktemp -d "${TMPDIR:-/tmp}/stsmap-skip.XXXXXX")
	trap 'rm -rf "$bin"' EXIT
	expect "C test, nginx missing, outside CI: skipped (77)" 77 '^SKIP: nginx' \
		env -u CI PATH="$bin" "$1"
	expect "C test, nginx missing, CI=true: failed (1)" 1 '^FAIL: nginx.*CI=true' \
		env CI=true PATH="$bin" "$1"
fi

echo "test_skip: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
