# shellcheck shell=bash
# scripts/lib/behave.sh - world-up's and world-down's part for the server
# behaviours of `stsmap world --behave` (docs/emulation.md, "Server
# behaviours").  Sourced, not run.
#
# The behaviours themselves (anvil limits, the slow greeting, nginx's
# limit_req/limit_conn, the tenant hosts) are all in the configuration the
# generator wrote; what is left for the servers' start is the IPv6 hosts:
# their addresses (world.json "behave_ipv6") exist on no interface, so
# they are added to lo of the network namespace world-up runs in, before
# nginx and Postfix bind them, and recorded in run/behave-ipv6.addrs;
# world-down removes exactly those.  Run the world in a namespace of its
# own (tests/world/test_behave.sh: ip netns add, ip netns exec) to leave
# the host's lo alone.  Addresses are fd53:7473::/64, a ULA prefix
# (RFC 4193) distinct from any the host uses.
#
#   behave_up JSON RUN     add the addresses (idempotent); 1 on failure
#   behave_add RUN ADDR... add these addresses the same way (the relay's
#                          IPv6 twins, scripts/lib/netem.sh)
#   behave_check JSON RUN  every address is on lo; prints what is missing
#   behave_down RUN        remove the addresses world-up added (both kinds)

behave_ipv6_of() { # behave_ipv6_of JSON: the addresses, one per word
	sed -n 's/^ *"behave_ipv6": "\([^"]*\)",\{0,1\}$/\1/p;T;q' "$1"
}

behave_up() {
	local json=$1 run=$2
	local addrs
	addrs=$(behave_ipv6_of "$json")
	[ -n "$addrs" ] || return 0
	# shellcheck disable=SC2086 # one address a word
	behave_add "$run" $addrs
}

# behave_add RUN ADDR...: put each IPv6 address on lo (idempotent) and list
# it in RUN/behave-ipv6.addrs, so behave_down removes it; 1 on failure.
# Also the relay's IPv6 twins (scripts/lib/netem.sh) come this way.
behave_add() {
	local run=$1 a
	shift
	command -v ip >/dev/null 2>&1 || {
		echo "behave: ip not installed (apt-get install iproute2)" >&2
		return 1
	}
	if [ "$(cat /proc/sys/net/ipv6/conf/lo/disable_ipv6 2>/dev/null)" = 1 ]; then
		echo "behave: IPv6 is disabled on lo" \
			"(sysctl net.ipv6.conf.lo.disable_ipv6=0)" >&2
		return 1
	fi
	: >>"$run/behave-ipv6.addrs"
	for a in "$@"; do
		ip -6 addr show dev lo | grep -qw "inet6 $a/128" && continue
		# nodad: usable at once, nginx and Postfix bind it next.
		ip -6 addr add "$a/128" dev lo nodad || return 1
		echo "$a" >>"$run/behave-ipv6.addrs"
	done
}

behave_check() {
	local json=$1 a bad=0
	for a in $(behave_ipv6_of "$json"); do
		ip -6 addr show dev lo | grep -qw "inet6 $a/128" || {
			echo "behave: $a is not on lo"
			bad=1
		}
	done
	return $bad
}

behave_down() {
	local run=$1 a
	[ -f "$run/behave-ipv6.addrs" ] || return 0
	while read -r a; do
		[ -n "$a" ] || continue
		ip -6 addr del "$a/128" dev lo 2>/dev/null || true
	done <"$run/behave-ipv6.addrs"
	rm -f "$run/behave-ipv6.addrs"
}
