# shellcheck shell=bash
# tests/lib/world.sh - the set-up every shell test shares: the binary
# under test, a scratch directory, clean-up on exit, processes started and
# stopped by PID, waiting for servers, the skip rule for missing tools,
# counted checks, and a served test world that is always torn down.
# Source it first (bash; works under set -e and set -u):
#
#   . "$(dirname "$0")/../lib/world.sh"
#
# The binary
#   need_binary VAR NAME [PATH]  VAR=PATH, the program ctest passes; run by
#                                hand without PATH: build/NAME of this
#                                repository ($STSMAP_BUILD_DIR elsewhere).
#                                Exit 2 naming it if it is not executable.
# Scratch and clean-up
#   lib_tmpdir NAME              tmp=a new ${TMPDIR:-/tmp}/stsmap-NAME.XXXXXX,
#                                removed on exit (kept if STSMAP_TEST_KEEP is
#                                set, and its name printed); a $tmp that is
#                                not below ${TMPDIR:-/tmp} or /tmp is never
#                                removed
#   at_exit CMD...               run CMD on exit, the last registered first,
#                                before the processes, worlds and $tmp go
# Processes, by PID (never by name: other tests and users share the host)
#   spawn CMD...                 start CMD in the background; its PID in
#                                $spawned; stopped on exit by stop_pid
#   stop_on_exit PID             the same for a job started with & (e.g. a
#                                pipeline, which spawn cannot start)
#   stop_pid PID                 SIGTERM (and SIGCONT, if it was stopped),
#                                up to 5 s, then SIGKILL to it and its
#                                descendants; reaped if it is our child.
#                                Already gone is fine.
#   alive PID                    true while PID runs (a zombie is not alive)
#   descendants PID              the PIDs below PID, one per line
# Waiting
#   wait_until SECS CMD...       run CMD every 0.1 s until it succeeds; false
#                                after SECS seconds (callers: `|| die WHY`)
#   wait_up PID SECS CMD...      the same for a server PID just started:
#                                false at once if PID exits
#   wait_dns ADDR PORT [SECS]    wait_until a DNS server answers at ADDR:PORT
#                                (dig, any rcode; default 10 s)
# Missing tools (the rule): a test that lacks a tool or a privilege exits
# 77 (skipped) naming the Debian package; it never skips for anything
# else.  scripts/test (CI) counts a skip as a failure, because
# scripts/bootstrap installs every package a test needs: a test that needs
# a new tool adds its package there too.
#   need_tools CMD:PACKAGE...    at the first CMD not installed: exit 77, or
#                                with CI=true exit 1 (tests/lib/skip.sh)
#   need_root WHY                exit 77 unless running as root
#   skip WHY                     exit 77 now, saying why
#   die WHY                      exit 1 now (a failure, not a skip)
# Checks
#   check DESC CMD...            count CMD's outcome as ok/FAIL; its output is
#                                shown on failure
#   ok [DESC] / bad DESC         count a pass (printed if DESC is given) or a
#                                failure by hand
#   finish                       print the tally; false on any failure
#   median                       the median of stdin's numbers, one a line
#   within V LO HI               LO <= V <= HI (decimals; V "" is false)
#   curl_ms HOST ADDR CA         one HTTPS GET of HOST's policy at ADDR
#                                (https_port): "handshake request" in ms
#   check_added WHAT DIRECT RELAY LO HI
#                                for the handshake and the request (fields
#                                1, 2 of curl_ms lines in files DIRECT and
#                                RELAY): check the median added time is in
#                                LO-HI ms; WHAT names the path
# The test world
#   world_need_tools             need_tools for the servers world-up starts
#   world_generate DIR ARGS...   `stsmap world --out DIR ARGS...` with the
#                                test ports (needs $stsmap); log DIR.gen.log
#   world_up DIR                 scripts/world-up DIR (log DIR.up.log), with
#                                the options in the array world_up_opts; DIR
#                                is stopped on exit; returns world-up's status
#   world_up_or_die DIR          world_up, dying with the log if it fails
#   world_serve DIR ARGS...      world_generate + world_up_or_die
#   world_down DIR               scripts/world-down DIR now
#   world_restart DIR            world_down + world_up, dying on failure
#   world_stop                   world-down of every world served (on exit)
#   world_scan_opts DIR [auth]   the scan options that point stsmap at DIR
#   world_behave_netns NAME SELF ARGS...
#                                run the test in a network namespace of its
#                                own (the --behave world's IPv6 addresses go
#                                on its lo, the host's stay untouched): outside
#                                one, re-run `bash SELF ARGS...` inside a new
#                                namespace stsmap-NAME-PID with lo up, delete
#                                it and exit with the inner run's status;
#                                inside ($STSMAP_NETNS set), return at once.
#                                Needs root and ip (iproute2): a failure, not
#                                a skip, without them
# Ports: DNS 5300, HTTPS 8443, SMTP 2525 (STSMAP_TEST_DNS_PORT, _HTTPS_PORT,
# _SMTP_PORT to move them, or set dns_port, https_port, smtp_port after
# sourcing), so no root is needed for the world itself (world-up skips
# Postfix without root).  Everything stays on 127.0.0.0/8.

PATH=$PATH:/usr/sbin:/sbin
lib_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$lib_here/../.." && pwd -P)
scripts=$repo/scripts
dns_port=${STSMAP_TEST_DNS_PORT:-5300}
https_port=${STSMAP_TEST_HTTPS_PORT:-8443}
smtp_port=${STSMAP_TEST_SMTP_PORT:-2525}
# shellcheck disable=SC2034 # for the tests that source this file
resolver=127.1.0.2:$dns_port # the world's Unbound (default ports)
served=()
world_up_opts=() # world-up's options for world_up (e.g. --latency 40)
lib_pids=()
lib_exit_cmds=()
spawned=

# --- checks -----------------------------------------------------------------

pass=0
fail=0
ok() {
	pass=$((pass + 1))
	[ $# -eq 0 ] || echo "ok - $*"
}
bad() {
	fail=$((fail + 1))
	echo "FAIL - $*"
}
# check DESC CMD...: count CMD's outcome; its output is shown on failure.
# No local variable here: CMD may be `eval '...'` over the caller's
# variables, which a local (say, out) would hide.
check() {
	if "${@:2}" >"${tmp:-/tmp}/.check-output" 2>&1; then
		ok "$1"
	else
		bad "$1"
		sed 's/^/    | /' "${tmp:-/tmp}/.check-output" | head -40
	fi
}
# skip, missing, missing_part, in_ci: the CI rule (tests/lib/skip.sh): in
# CI (CI=true) a missing tool is a failure, never a skip.
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
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
within() { awk -v v="$1" -v l="$2" -v h="$3" 'BEGIN { exit !(v != "" && v >= l && v <= h) }'; }
curl_ms() {
	local a=$2
	case $a in *:*) a="[$a]" ;; esac
	{ curl -sS -o /dev/null -m 5 --cacert "$3" --resolve "$1:$https_port:$a" \
		-w '%{time_connect} %{time_appconnect} %{time_starttransfer}\n' \
		"https://$1:$https_port/.well-known/mta-sts.txt" || true; } |
		awk '{ printf "%.1f %.1f\n", ($2 - $1) * 1000, ($3 - $2) * 1000 }'
}
check_added() {
	local f what c0 c1 add
	for f in 1 2; do
		what=$([ $f = 1 ] && echo "TLS handshake" || echo "request")
		c0=$(cut -d' ' -f$f "$2" | median)
		c1=$(cut -d' ' -f$f "$3" | median)
		add=$(awk -v a="$c1" -v b="$c0" 'BEGIN { printf "%.1f", a - b }')
		check "$1: $what added $add ms (median $c1 vs $c0 direct), want $4-$5" \
			within "$add" "$4" "$5"
	done
}

# --- tools and the binary ------------------------------------------------------

need_tools() {
	local t
	for t in "$@"; do
		command -v "${t%%:*}" >/dev/null 2>&1 ||
			missing "${t%%:*} not installed (apt-get install ${t#*:})"
	done
}
need_root() {
	[ "$(id -u)" -eq 0 ] || skip "not root ($*)"
}
need_binary() {
	local var=$1 name=$2 path=${3:-}
	if [ -z "$path" ]; then
		path=${STSMAP_BUILD_DIR:-$repo/build}/$name
		[ -x "$path" ] || {
			echo "usage: ${0##*/} PATH/TO/$name (none given, and no $path:" \
				"cmake -S . -B build && cmake --build build)" >&2
			exit 2
		}
	fi
	[ -x "$path" ] || {
		echo "${0##*/}: $path is not an executable" >&2
		exit 2
	}
	printf -v "$var" '%s' "$path"
}

# --- scratch, processes, clean-up ------------------------------------------------

lib_tmpdir() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/stsmap-$1.XXXXXX") ||
		die "mktemp failed"
}
# lib_rm_tmp: remove $tmp, but only a directory below ${TMPDIR:-/tmp} or
# /tmp, never one of those themselves (a test that set tmp=/tmp must not
# empty the machine's /tmp).
lib_rm_tmp() {
	local d=${tmp:-} base=${TMPDIR:-/tmp}
	d=${d%/}
	case $d in
	"$base"/?* | /tmp/?*) ;;
	*) return 0 ;;
	esac
	case $d in */..* | */./*) return 0 ;; esac
	[ -d "$d" ] && rm -rf -- "$d"
	return 0
}
at_exit() {
	lib_exit_cmds+=("$*")
}

alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
descendants() {
	local c
	# shellcheck disable=SC2013 # the file holds space-separated PIDs
	for c in $(cat "/proc/$1/task/"*/children 2>/dev/null); do
		echo "$c"
		descendants "$c"
	done
}
spawn() {
	"$@" &
	spawned=$!
	lib_pids+=("$spawned")
}
stop_on_exit() {
	lib_pids+=("$1")
}
stop_pid() {
	local pid=$1 kids
	if alive "$pid"; then
		kids=$(descendants "$pid")
		kill -TERM "$pid" 2>/dev/null || true
		kill -CONT "$pid" 2>/dev/null || true
		for _ in $(seq 50); do
			alive "$pid" || break
			sleep 0.1
		done
		if alive "$pid"; then
			echo "${0##*/}: pid $pid ignored SIGTERM, killing it" >&2
			# shellcheck disable=SC2086 # one PID per word
			kill -KILL "$pid" $kids 2>/dev/null || true
		fi
	fi
	wait "$pid" 2>/dev/null || true
	return 0
}

# now_us: the wall clock in microseconds (bash 5's EPOCHREALTIME).
now_us() { echo "${EPOCHREALTIME/[.,]/}"; }
wait_until() {
	local end=$(($(now_us) + $1 * 1000000))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(now_us)" -lt "$end" ] || return 1
		sleep 0.1
	done
}
wait_up() {
	local pid=$1 end=$(($(now_us) + $2 * 1000000))
	shift 2
	until "$@" >/dev/null 2>&1; do
		alive "$pid" && [ "$(now_us)" -lt "$end" ] || return 1
		sleep 0.1
	done
}
wait_dns() {
	wait_until "${3:-10}" dig +time=1 +tries=1 @"$1" -p "$2" . NS
}

lib_cleanup() {
	local i
	trap '' INT TERM # a second ^C must not cut the clean-up short
	for ((i = ${#lib_exit_cmds[@]} - 1; i >= 0; i--)); do
		eval "${lib_exit_cmds[i]}" || true
	done
	for i in "${lib_pids[@]}"; do
		stop_pid "$i"
	done
	world_stop
	if [ -n "${STSMAP_TEST_KEEP:-}" ]; then
		echo "kept ${tmp:-}"
	else
		lib_rm_tmp
	fi
	return 0
}
trap lib_cleanup EXIT
trap 'exit 130' INT TERM

# --- the test world ----------------------------------------------------------------

world_need_tools() {
	need_tools nsd:nsd unbound:unbound nginx:nginx-light \
		ldns-keygen:ldnsutils ldns-signzone:ldnsutils dig:dnsutils \
		curl:curl perl:perl-base python3:python3
}

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

world_stop() {
	local w
	for w in "${served[@]}"; do
		[ -d "$w/run" ] && "$scripts/world-down" "$w" >/dev/null 2>&1
	done
	served=()
	return 0
}

# world_generate DIR [stsmap world options...]
world_generate() {
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
}

world_up() {
	local s
	for s in "${served[@]}"; do [ "$s" = "$1" ] && break; done
	[ "${s:-}" = "$1" ] || served+=("$1")
	"$scripts/world-up" "${world_up_opts[@]}" "$1" >"$1.up.log" 2>&1
}

world_up_or_die() {
	world_up "$1" ||
		die "world-up failed (another world on these ports? set" \
			"STSMAP_TEST_DNS_PORT/_HTTPS_PORT/_SMTP_PORT):" \
			"$(tail -5 "$1.up.log")"
}

world_serve() {
	world_generate "$@"
	world_up_or_die "$1"
}

world_down() {
	"$scripts/world-down" "$1" >/dev/null 2>&1 || true
}

world_restart() {
	world_down "$1"
	world_up_or_die "$1"
}

# The scan options that point stsmap at the served world $1: through the
# validating Unbound, or with "auth" straight to NSD (authoritative for the
# whole world, several times faster: for bulk worlds, where the AD bit does
# not matter and a busy single-threaded validator would time out).  NSD
# does not recurse, so "auth" says --upstream-authoritative: without it the
# scan refuses such an upstream.
world_scan_opts() {
	local r=127.1.0.2:$dns_port a=""
	[ "${2:-}" = auth ] && r=127.1.0.1:$dns_port a=--upstream-authoritative
	echo --resolver "$r" $a --allow-private --ca-file "$1/tls/ca.pem" \
		--https-port "$https_port" --smtp-port "$smtp_port"
}

# world_behave_netns NAME SELF ARGS...: see the header.  The namespace is
# deleted whatever the inner run did; the inner run has its own clean-up
# (this file's EXIT trap), which stops its world before the namespace goes.
world_behave_netns() {
	local name=$1 self=$2 ns rc=0
	shift 2
	[ -z "${STSMAP_NETNS:-}" ] || return 0
	[ "$(id -u)" -eq 0 ] || die "needs root (ip netns, Postfix)"
	command -v ip >/dev/null 2>&1 || die "ip missing (apt-get install iproute2)"
	ns=stsmap-$name-$$
	ip netns add "$ns" || die "ip netns add $ns failed"
	ip netns exec "$ns" ip link set lo up &&
		STSMAP_NETNS=$ns ip netns exec "$ns" bash "$self" "$@" || rc=$?
	ip netns del "$ns" || rc=1
	exit $rc
}
