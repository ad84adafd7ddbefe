# shellcheck shell=bash disable=SC2034,SC2154 # sourced by world-up: its variables
# scripts/lib/hier.sh - world-up --hierarchy: serve DIR/hier/ (written by
# `stsmap world --hierarchy`) as a real delegation hierarchy.
#
# Sourced by world-up, which calls, in this order:
#   hier_opt ARGS...        take --hierarchy / --rrl SERVER[=RATE] (sets
#                           hier_shift: the words taken; 0 if none)
#   hier_init               after DIR and run/ are known: check hier/,
#                           read hier/servers.txt; adds to world-up's names
#   hier_check_free         nothing answers DNS on the hierarchy's addresses
#   hier_sign               a key per zone (ldns-keygen), children signed
#                           first, each child's DS added to its parent
#                           before the parent is signed (ldns-signzone);
#                           the root's DS is Unbound's trust anchor
#   hier_nsd_conf           one NSD configuration per server of servers.txt
#   hier_unbound_conf FILE  world-up's Unbound configuration made
#                           recursive: root hints and the root's trust
#                           anchor instead of stub zones; a control socket
#                           (run/hier/unbound.ctl) for unbound-control
#   hier_start              start and wait for every NSD (run/hier-*.pid,
#                           so world-down stops them with the rest)
#   hier_summary            lines for world-up's summary
#   hier_netem_maps SHAPE   (called by netem.sh's netem_maps) the relay's
#                           maps for every hierarchy address, UDP and TCP
# Everything it writes is under DIR/run/hier/.  Without --hierarchy every
# function but hier_opt does nothing.
#
# With the relay (--latency, --jitter, --loss, --netem-profile) every hop of
# Unbound's iteration pays the DNS role's round trip: the NSDs stay on their
# addresses (127.20.x.y), but the working copies of the zones and the root
# hints name the relay's twins (127.120.x.y, the netem.sh rule: second octet
# plus 100) wherever they give a name server's address (glue, the NS hosts'
# own A records), and the policy and MX hosts' addresses (127.2-127.5) too,
# as the flat twin zone does; the relay forwards each twin to its server.
# The copies are rewritten before signing, so the signatures cover the twins.
#
# RRL: --rrl SERVER[=RATE] (repeatable) turns NSD's response rate limiting
# on for one server of servers.txt (root, tld, dns01, ...): RATE responses
# a second per bucket (default 20; a bucket is a client /24 and a kind of
# answer), every second limited answer truncated (TC, the client retries
# over TCP, which RRL never limits), the others dropped.  Every other
# server, like the flat world's NSD, has RRL off: Debian's NSD turns it on
# by default, and every query of a scan comes from one address.

hier_on=""
# Root hints and glue carry no port: a resolver iterating from the root
# asks port 53, so the hierarchy's servers listen there whatever the
# world's --dns-port (which stays the port of the flat NSD and Unbound).
hier_port=53
hier_rrl=() # "SERVER RATE"
hier_servers=() # "NAME ADDR ADDR" of servers.txt

hier_opt() {
	hier_shift=0
	case $1 in
	--hierarchy) hier_on=1 hier_shift=1 ;;
	--rrl) [ $# -ge 2 ] || return 1; hier_rrl_add "$2" || return 1; hier_shift=2 ;;
	--rrl=*) hier_rrl_add "${1#--rrl=}" || return 1; hier_shift=1 ;;
	esac
	return 0
}
hier_rrl_add() {
	local s=${1%%=*} r=20
	[[ $1 == *=* ]] && r=${1#*=}
	[[ $s =~ ^[a-z0-9]+$ && $r =~ ^[1-9][0-9]{0,5}$ ]] || {
		echo "$me: --rrl SERVER[=RATE]: a server of hier/servers.txt and" \
			"1 to 999999 responses a second, not '$1'" >&2
		return 1
	}
	hier_rrl+=("$s $r")
}

hier_init() {
	local l s ok
	if [ -z "$hier_on" ]; then
		[ ${#hier_rrl[@]} -eq 0 ] || die "--rrl needs --hierarchy"
		return 0
	fi
	[ "$(id -u)" -eq 0 ] || die "--hierarchy needs root: its servers listen on port $hier_port"
	hier_dir=$dir/hier
	hrun=$run/hier
	for f in servers.txt zones.txt root.hints; do
		[ -f "$hier_dir/$f" ] || die "$hier_dir/$f missing: write the world" \
			"with stsmap world --hierarchy"
	done
	need unbound-control unbound
	while read -r l; do
		case $l in '#'* | '') continue ;; esac
		hier_servers+=("$l")
		names+=("hier-${l%% *}")
	done <"$hier_dir/servers.txt"
	for l in "${hier_rrl[@]}"; do
		ok=""
		for s in "${hier_servers[@]}"; do
			[ "${s%% *}" = "${l% *}" ] && ok=1
		done
		[ -n "$ok" ] || die "--rrl ${l% *}: no such server in $hier_dir/servers.txt"
	done
}

# The addresses of server line $1 ("NAME ADDR ADDR").
hier_addrs() { echo "${1#* }"; }
# Their relay twins, with the relay on (else nothing).
hier_twins() {
	local a
	[ -n "${netem_on:-}" ] || return 0
	for a in $(hier_addrs "$1"); do netem_twin "$a"; done
}

# hier_twin_zones: with the relay on, point every A record of the working
# copies (zones and root hints) that gives a hierarchy server (127.20/16)
# or a policy or MX host (127.2-127.6/16), and every AAAA record of an
# IPv6 host (fd53:7473::R:H, --behave), at its twin, before signing.
hier_twin_zones() {
	local f
	[ -n "${netem_on:-}" ] || return 0
	for f in "$hrun/work/root.hints" "$hrun/work/"*.zone "$hrun/work/zones/"*.zone; do
		[ -f "$f" ] || continue
		awk -v PAT='^127\\.([2-6]|20)\\.[0-9]+\\.[0-9]+$' "$netem_twin_awk" \
			"$f" >"$f.twin" && mv "$f.twin" "$f" || return 1
	done
}

hier_check_free() {
	local s a
	[ -n "$hier_on" ] || return 0
	for s in "${hier_servers[@]}"; do
		for a in $(hier_addrs "$s") $(hier_twins "$s"); do
			dig @"$a" -p "$hier_port" +time=1 +tries=1 +norec SOA . 2>/dev/null |
				grep -q 'status: ' && die "something already answers DNS on" \
				"$a:$hier_port (another world with --hierarchy?)"
		done
	done
	return 0
}

# hier_sign_one ZONE FILE: key and sign one zone of run/hier/work; its DS
# to run/hier/ds/ZONE.ds.
hier_sign_one() {
	local z=$1 f=$2 key
	key=$(cd "$hrun/keys" && ldns-keygen -a ECDSAP256SHA256 -k -r /dev/urandom "$z") &&
		ldns-signzone -i $((now - 3600)) -e $((now + 90 * 86400)) \
			-f "$hrun/work/$f.signed" -o "$z" "$hrun/work/$f" "$hrun/keys/$key" &&
		cp "$hrun/keys/$key.ds" "$hrun/ds/$z.ds"
}

hier_sign() {
	local z s f p c last="" pids=() pid
	[ -n "$hier_on" ] || return 0
	rm -rf "$hrun"
	mkdir -p "$hrun/keys" "$hrun/ds" "$hrun/daemon"
	cp -r "$hier_dir" "$hrun/work"
	hier_twin_zones || return 1
	# Zones of one parent are signed two at a time (ldns-signzone is
	# single-threaded); a parent waits for all of its children.
	while read -r z s f p; do
		case $z in '#'* | '') continue ;; esac
		if [ "$p" != "$last" ]; then
			for pid in "${pids[@]}"; do wait "$pid" || return 1; done
			pids=()
			last=$p
		fi
		# The children's DS records, now that they are signed.
		awk -v z="$z" '$4 == z { print $1 }' "$hier_dir/zones.txt" |
			while read -r c; do cat "$hrun/ds/$c.ds"; done >>"$hrun/work/$f"
		hier_sign_one "$z" "$f" &
		pids+=($!)
		if [ ${#pids[@]} -ge 2 ]; then
			wait "${pids[0]}" || return 1
			pids=("${pids[@]:1}")
		fi
	done <"$hier_dir/zones.txt"
	for pid in "${pids[@]}"; do wait "$pid" || return 1; done
	cp "$hrun/ds/..ds" "$hrun/root.ds"
}

hier_rate() { # hier_rate SERVER: its RRL rate, 0 for off
	local l r=0
	for l in "${hier_rrl[@]}"; do
		[ "${l% *}" = "$1" ] && r=${l#* }
	done
	echo "$r"
}

hier_nsd_conf() {
	local s n a r v z srv f p
	[ -n "$hier_on" ] || return 0
	for s in "${hier_servers[@]}"; do
		n=${s%% *}
		r=$(hier_rate "$n")
		v=1 # with RRL, 2: NSD logs each bucket it blocks
		[ "$r" -eq 0 ] || v=2
		mkdir -p "$hrun/daemon/$n"
		{
			echo "# written by world-up --hierarchy for $dir: server $n"
			echo "server:"
			for a in $(hier_addrs "$s"); do echo "	ip-address: $a@$hier_port"; done
			cat <<EOF
	port: $hier_port
	do-ip6: no
	username: ""
	chroot: ""
	zonesdir: "$hrun/work"
	pidfile: "$hrun/daemon/$n/nsd.pid"
	zonelistfile: "$hrun/daemon/$n/nsd.zonelist"
	xfrdfile: "$hrun/daemon/$n/nsd.xfrd"
	xfrdir: "$hrun/daemon/$n"
	database: ""
	logfile: "$hrun/nsd-$n.log"
	server-count: 1
	verbosity: $v
	hide-version: yes
	rrl-ratelimit: $r
	rrl-whitelist-ratelimit: $r
EOF
			if [ "$r" -gt 0 ]; then
				printf "\trrl-slip: 2\n"
			fi
			printf 'remote-control:\n\tcontrol-enable: no\n'
			while read -r z srv f p; do
				[ "$srv" = "$n" ] || continue
				printf 'zone:\n\tname: "%s"\n\tzonefile: "%s.signed"\n' "$z" "$f"
			done <"$hier_dir/zones.txt"
		} >"$hrun/nsd-$n.conf"
	done
}

hier_unbound_conf() {
	local f=$1
	[ -n "$hier_on" ] || return 0
	# No stub zones: iterate from the world's root, validate from its KSK.
	sed -i -e '/^remote-control:/,$d' \
		-e '/^[[:space:]]*trust-anchor-file:/d' "$f"
	cat >>"$f" <<EOF
	# --hierarchy: resolve iteratively from the world's root
	root-hints: "$hrun/work/root.hints"
	trust-anchor-file: "$hrun/root.ds"
remote-control:
	control-enable: yes
	control-interface: "$hrun/unbound.ctl"
	control-use-cert: no
EOF
}

hier_start() {
	local s n a z
	[ -n "$hier_on" ] || return 0
	for s in "${hier_servers[@]}"; do
		start "hier-${s%% *}" nsd -d -c "$hrun/nsd-${s%% *}.conf"
	done
	for s in "${hier_servers[@]}"; do
		n=${s%% *}
		z=$(awk -v n="$n" '$2 == n { print $1; exit }' "$hier_dir/zones.txt")
		[ -n "$z" ] || z=.
		for a in $(hier_addrs "$s"); do
			wait_for "hier-$n" hier_soa_ok "$a" "$z"
		done
	done
}
hier_soa_ok() { # ADDR ZONE: an authoritative answer for the SOA of ZONE
	dig @"$1" -p "$hier_port" +time=1 +tries=1 +norec SOA "$2" 2>/dev/null |
		grep -q 'flags: qr aa'
}

hier_netem_maps() { # hier_netem_maps SHAPE: "udp:TWIN:53=ADDR:53,SHAPE", tcp too
	local s a
	[ -n "$hier_on" ] || return 0
	for s in "${hier_servers[@]}"; do
		for a in $(hier_addrs "$s"); do
			echo "udp:$(netem_twin "$a"):$hier_port=$a:$hier_port,$1"
			echo "tcp:$(netem_twin "$a"):$hier_port=$a:$hier_port,$1"
		done
	done
}

hier_summary() {
	local s r
	[ -n "$hier_on" ] || return 0
	echo "  hierarchy (Unbound resolves from the root, trust anchor run/hier/root.ds):"
	for s in "${hier_servers[@]}"; do
		r=$(hier_rate "${s%% *}")
		printf '    NSD %-6s %s:%s  %s zones%s  pid %s\n' "${s%% *}" \
			"$(hier_addrs "$s" | tr ' ' ',')" "$hier_port" \
			"$(awk -v n="${s%% *}" '$2 == n' "$hier_dir/zones.txt" | wc -l)" \
			"$([ "$r" -gt 0 ] && echo ", RRL $r/s")" \
			"$(cat "$run/hier-${s%% *}.pid")"
	done
}
