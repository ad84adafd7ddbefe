# tests/lib/world.sh - shared by the shell integration tests: counting
# checks, skipping, and a served test world that is always torn down.
#
# Source it, then:
#   world_need_tools            exit 77 unless the world's servers exist
#                               (in CI: exit 1, tests/lib/skip.sh)
#   world_serve DIR ARGS...     `stsmap world --out DIR ARGS...` + world-up
#   world_stop                  world-down (also run on exit)
#   world_no_postfix DIR DESC   DESC not run: no Postfix (a failure in CI
#                               as root)
#   check DESC CMD...           count CMD's outcome as ok/FAIL
#   finish                      print the tally, exit 1 on any failure
# Needs $stsmap (the binary) and $tmp (a scratch directory it removes,
# unless STSMAP_TEST_KEEP is set).  Ports: DNS 5300, HTTPS 8443, SMTP 2525
# (STSMAP_TEST_DNS_PORT, _HTTPS_PORT, _SMTP_PORT to move them), so no root
# is needed for the world itself (world-up skips Postfix without root).

PATH=$PATH:/usr/sbin:/sbin
lib_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
scripts=$(cd "$lib_here/../../scripts" && pwd -P)
dns_port=${STSMAP_TEST_DNS_PORT:-5300}
https_port=${STSMAP_TEST_HTTPS_PORT:-8443}
smtp_port=${STSMAP_TEST_SMTP_PORT:-2525}
resolver=127.1.0.2:$dns_port
served=()

pass=0
fail=0
ok() {
	pass=$((pass + 1))
	echo "ok - $*"
}
bad() {
	fail=$((fail + 1))
	echo "FAIL - $*"
}
# check DESC CMD...: count CMD's outcome; its output is shown on failure.
check() {
	local desc=$1 out=${tmp:-/tmp}/.check-output
	shift
	if "$@" >"$out" 2>&1; then
		ok "$desc"
	else
		bad "$desc"
		sed 's/^/    | /' "$out" | head -40
	fi
}
# skip, missing, missing_part, in_ci: tests/lib/skip.sh
# shellcheck source=skip.sh
. "$lib_here/skip.sh"
die() {
	echo "${0##*/}: $*" >&2
	exit 1
}
finish() {
	echo "${0##*/}: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}

world_need_tools() {
	local t
	for t in nsd:nsd unbound:unbound nginx:nginx-light \
		ldns-keygen:ldnsutils ldns-signzone:ldnsutils dig:dnsutils \
		curl:curl perl:perl-base python3:python3; do
		command -v "${t%%:*}" >/dev/null 2>&1 ||
			missing "${t%%:*} not installed (apt-get install ${t#*:})"
	done
}

world_stop() {
	local w
	for w in "${served[@]}"; do
		[ -d "$w/run" ] && "$scripts/world-down" "$w" >/dev/null 2>&1
	done
	served=()
	return 0
}

lib_cleanup() {
	trap '' INT TERM
	world_stop
	if [ -n "${STSMAP_TEST_KEEP:-}" ]; then
		echo "kept ${tmp:-}"
	elif [ -n "${tmp:-}" ]; then
		rm -rf "$tmp"
	fi
	return 0
}
trap lib_cleanup EXIT
trap 'exit 130' INT TERM

# world_no_postfix DIR DESC: the world DIR runs no Postfix, so DESC is not
# run.  Without root that is an allowed skip (Postfix's master starts as
# root); as root it means Postfix is missing: a failure in CI.
world_no_postfix() {
	local why
	why=$(cat "$1/run/postfix.skipped" 2>/dev/null || echo "no Postfix")
	if [ "$(id -u)" -ne 0 ]; then
		echo "# $2 skipped: the world runs no Postfix ($why)"
	else
		missing_part "$2: the world runs no Postfix ($why)"
	fi
}

# world_serve DIR [stsmap world options...]
world_serve() {
	local w=$1
	shift
	local extra=()
	# Postfix's unprivileged processes must reach the world's files.
	chmod o+x "$(dirname "$w")"
	if "$stsmap" world --help 2>&1 | grep -q -- --smtp-port; then
		extra=(--smtp-port "$smtp_port")
	fi
	"$stsmap" world --out "$w" --dns-port "$dns_port" \
		--https-port "$https_port" "${extra[@]}" "$@" >"$w.gen.log" 2>&1 ||
		die "stsmap world failed: $(cat "$w.gen.log")"
	served+=("$w")
	"$scripts/world-up" "$w" >"$w.up.log" 2>&1 ||
		die "world-up failed (another world on these ports? set" \
			"STSMAP_TEST_DNS_PORT/_HTTPS_PORT/_SMTP_PORT):" \
			"$(tail -5 "$w.up.log")"
}

# The scan options that point stsmap at the served world $1: through the
# validating Unbound, or with "auth" straight to NSD (authoritative for the
# whole world, several times faster: for bulk worlds, where the AD bit does
# not matter and a busy single-threaded validator would time out).  NSD
# does not recurse, so "auth" says --upstream-authoritative: without it the
# scan refuses such an upstream.
world_scan_opts() {
	local r=$resolver a=""
	[ "${2:-}" = auth ] && r=127.1.0.1:$dns_port a=--upstream-authoritative
	echo --resolver "$r" $a --allow-private --ca-file "$1/tls/ca.pem" \
		--https-port "$https_port" --smtp-port "$smtp_port"
}
