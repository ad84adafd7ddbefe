# shellcheck shell=bash
# tests/lib/skip.sh - when a shell test may skip, and when it must fail.
#
# A skipped check proved nothing.  Outside CI a developer without some
# tool still gets the rest of the suite; in CI (CI=true, as .ci/run and
# scripts/test set it) every tool the suite needs was installed by
# scripts/bootstrap, so a missing one is a broken machine: a failure.
# Only the skips listed in docs/testing.md ("Skips") stay allowed in CI,
# and each names its cause (not root, no IPv6 loopback, ...).
#
# Source it (tests/lib/world.sh does), then:
#   in_ci                 true when CI=true
#   skip REASON           an allowed skip of the whole test: exit 77
#   missing REASON        a required tool is missing: exit 77 outside CI,
#                         exit 1 in CI
#   missing_part REASON   part of a test cannot run for a missing tool:
#                         a SKIP line outside CI, a counted failure (the
#                         caller's `bad`) in CI

in_ci() {
	[ "${CI:-}" = true ]
}
skip() {
	echo "SKIP: $*"
	exit 77
}
missing() {
	if in_ci; then
		echo "FAIL: $* (CI=true: a missing tool is a failure, not a skip)"
		exit 1
	fi
	skip "$@"
}
missing_part() {
	if in_ci; then
		bad "$* (CI=true: a missing tool is a failure, not a skip)"
	else
		echo "SKIP: $*"
	fi
}
