# shellcheck shell=bash
# World-up's variables are set before these functions run:
# shellcheck disable=SC2154
# netem.sh - sourced by scripts/world-up: latency, jitter and loss on the
# world's paths, through the user-space relay nm_relay (tests/netem/; the
# kernel here has no netem qdisc).
#
# Options (any of them turns the relay on):
#   --latency MS       round-trip time added on every path
#   --jitter MS        +/- that much on the round trip (uniform)
#   --loss PCT         share of round trips lost (each direction loses
#                      1 - sqrt(1 - PCT/100), so a query or its answer
#                      goes missing PCT% of the time)
#   --netem-profile F  per role, overriding the three above: lines
#                      "ROLE [rtt=MS] [jitter=MS] [loss=PCT]", ROLE one of
#                      dns, https, smtp; '#' comments
#
# The servers stay where they are; the relay listens on a twin of every
# server address, the second octet plus 100 (127.1.0.2 -> 127.101.0.2),
# and the zone world-up signs points the policy hosts and MX hosts at the
# twins (A records in 127.2-127.6 rewritten; DIR's own zone file is left
# alone).  The scanner is told to use the twin resolver (run/netem.env).
# A twin of an address nothing listens on (127.5.0.1, "refused") gets no
# listener, so it refuses too.
#
# IPv6 (a --behave world's hosts in fd53:7473::/64, scripts/lib/behave.sh):
# fd53:7473::R:H has the twin fd53:7473::1RR:H (the group R plus 0x100:
# ::2:1 -> ::102:1, ::3:1 -> ::103:1), its AAAA records rewritten likewise,
# and the resolvers get IPv6 twins too, fd53:7473::101:2 (Unbound) and
# ::101:1 (NSD), so DNS over IPv6 is delayed as well.  world-up puts these
# addresses on lo next to the hosts' own (behave_add: world-down removes
# them); run/netem.env names the IPv6 resolver twin (resolver6=).  The relay's PID is in run/netem.pid, and
# world-down stops it like every other server.
#
# Functions (world-up calls them in this order):
#   netem_opt ARGS...   0 if $1 is one of the options (netem_shift set to
#                       the words it took), else 1
#   netem_check         the options' values and the profile (exit 2)
#   netem_prepare       check the relay, write the twin zone; sets
#                       netem_zone (the zone to sign) when on
#   netem_start         write run/netem.conf, start the relay, wait until
#                       it is ready (after every server is up; with
#                       --hierarchy before Unbound, which iterates through it)
#   netem_verify        Unbound answers through the relay; run/netem.env
#   netem_summary       one line for world-up's report
# They use world-up's variables (dir, run, here, zone, conf, tld, the ports
# and addresses, pf_conf, hang_ip, postfix_why) and functions (die, start,
# alive, log_tail, answers_dns, accepts_tcp).

netem_on=""
netem_latency="" netem_jitter="" netem_loss="" netem_profile=""
netem_zone=""
netem_v6="" netem_ub6="" netem_nsd6=""

# The twin rule on a zone's records, for world-up's twin zone and the
# hierarchy's working copies (hier.sh): A records in 127.2-127.6 (and
# whatever else PAT matches, an awk regex of IPv4 addresses), AAAA records
# in the world's fd53:7473::R:H form.  mawk: no {m,n} intervals.
netem_twin_awk='$4 == "A" && $5 ~ PAT {
		split($5, o, "."); $5 = "127." (o[2] + 100) "." o[3] "." o[4] }
	$4 == "AAAA" && $5 ~ /^fd53:7473::[0-9a-f][0-9a-f]?:[0-9a-f][0-9a-f]?[0-9a-f]?[0-9a-f]?$/ {
		split($5, g, ":"); r = g[4]; if (length(r) == 1) r = "0" r
		$5 = "fd53:7473::1" r ":" g[5] }
	{ print }'

netem_opt() {
	local v=${2-}
	netem_shift=2
	case $1 in
	--latency) netem_latency=$v ;;
	--jitter) netem_jitter=$v ;;
	--loss) netem_loss=$v ;;
	--netem-profile) netem_profile=$v ;;
	--latency=* | --jitter=* | --loss=* | --netem-profile=*)
		netem_shift=1
		netem_opt "${1%%=*}" "${1#*=}"
		# shellcheck disable=SC2034 # read by world-up
		netem_shift=1 # one word, not two
		return 0
		;;
	*) return 1 ;;
	esac
	[ $# -ge 2 ] || { echo "world-up: $1 needs a value" >&2; exit 2; }
	netem_on=1
	return 0
}

# netem_num NAME VALUE MAX: VALUE a decimal number in [0, MAX], else exit 2.
netem_num() {
	if [[ $2 =~ ^[0-9]+(\.[0-9]+)?$ ]] &&
		awk -v v="$2" -v m="$3" 'BEGIN { exit !(v + 0 <= m + 0) }'; then
		return 0
	fi
	echo "world-up: $1 $2: want a number from 0 to $3" >&2
	exit 2
}

# The one-way map options of a role from its round-trip values.
netem_shape() { # netem_shape RTT JITTER LOSS
	awk -v r="$1" -v j="$2" -v l="$3" 'BEGIN {
		p = 100 * (1 - sqrt(1 - l / 100))
		printf "delay=%.3f,jitter=%.3f,loss=%.6f\n", r / 2, j / 2, p }'
}

# netem_check: the options' values and the profile; exit 2 if wrong.
netem_check() {
	local role k v kv line n=0
	[ -n "$netem_on" ] || return 0
	: "${netem_latency:=0}" "${netem_jitter:=0}" "${netem_loss:=0}"
	netem_num --latency "$netem_latency" 120000
	netem_num --jitter "$netem_jitter" 120000
	netem_num --loss "$netem_loss" 100
	declare -gA netem_rtt netem_jit netem_los
	for role in dns https smtp; do
		netem_rtt[$role]=$netem_latency
		netem_jit[$role]=$netem_jitter
		netem_los[$role]=$netem_loss
	done
	if [ -n "$netem_profile" ]; then
		[ -f "$netem_profile" ] || { echo "world-up: no profile $netem_profile" >&2; exit 2; }
		while IFS= read -r line || [ -n "$line" ]; do
			n=$((n + 1))
			line=${line%%#*}
			# shellcheck disable=SC2086 # words of the line
			set -- $line
			[ $# -gt 0 ] || continue
			role=$1
			case $role in dns | https | smtp) ;; *)
				echo "world-up: $netem_profile:$n: role '$role' (want dns, https or smtp)" >&2
				exit 2
				;;
			esac
			shift
			for kv in "$@"; do
				k=${kv%%=*} v=${kv#*=}
				case $k in
				rtt) netem_num "$netem_profile:$n: rtt" "$v" 120000 && netem_rtt[$role]=$v ;;
				jitter) netem_num "$netem_profile:$n: jitter" "$v" 120000 && netem_jit[$role]=$v ;;
				loss) netem_num "$netem_profile:$n: loss" "$v" 100 && netem_los[$role]=$v ;;
				*)
					echo "world-up: $netem_profile:$n: '$kv' (want rtt=, jitter=, loss=)" >&2
					exit 2
					;;
				esac
			done
		done <"$netem_profile"
	fi
	for role in dns https smtp; do
		awk -v r="${netem_rtt[$role]}" -v j="${netem_jit[$role]}" \
			'BEGIN { exit !(j + 0 <= r + 0) }' || {
			echo "world-up: $role: jitter ${netem_jit[$role]} ms above the round trip ${netem_rtt[$role]} ms" >&2
			exit 2
		}
	done
}

netem_prepare() {
	local a
	[ -n "$netem_on" ] || return 0
	netem_bin=${NM_RELAY:-$here/../build/tests/netem/nm_relay}
	[ -x "$netem_bin" ] || die "no relay at $netem_bin: build it" \
		"(cmake --build build --target nm_relay) or set NM_RELAY"
	netem_ub=$(netem_twin "$ub_ip")
	netem_nsd=$(netem_twin "$nsd_ip")
	for a in "$netem_ub" "$netem_nsd"; do
		answers_dns "$a" && die "something already answers DNS on $a:$dns_port" \
			"(another world with --latency? scripts/world-down it)"
	done
	# The zone world-up signs: policy and MX host addresses on the twins.
	netem_zone=$run/netem.zone
	awk -v PAT='^127\\.[2-6]\\.[0-9]+\\.[0-9]+$' "$netem_twin_awk" "$zone" \
		>"$netem_zone" || die "cannot write $netem_zone"
	# --behave: the IPv6 hosts' twins and the resolvers' IPv6 twins on lo
	# (the hosts' own addresses are there already, behave_up).
	netem_v6=$(behave_ipv6_of "$json")
	[ -n "$netem_v6" ] || return 0
	netem_ub6=fd53:7473::101:2 netem_nsd6=fd53:7473::101:1
	# shellcheck disable=SC2046 # one address a word
	behave_add "$run" $(for a in $netem_v6; do netem_twin "$a"; done) \
		"$netem_ub6" "$netem_nsd6" || die "cannot add the relay's IPv6 twins to lo"
}

# netem_twin ADDR: 127.B.C.D -> 127.(B+100).C.D; fd53:7473::R:H ->
# fd53:7473::1RR:H (R one or two hex digits).
netem_twin() {
	local IFS=. r
	case $1 in
	*:*)
		[[ $1 =~ ^fd53:7473::([0-9a-f]{1,2}):([0-9a-f]{1,4})$ ]] ||
			die "no twin for $1: the relay's IPv6 twins are for fd53:7473::R:H"
		r=${BASH_REMATCH[1]}
		[ ${#r} -eq 2 ] || r=0$r
		echo "fd53:7473::1$r:${BASH_REMATCH[2]}"
		return 0
		;;
	esac
	# shellcheck disable=SC2086 # split on dots
	set -- $1
	echo "$1.$(($2 + 100)).$3.$4"
}

# netem_ep ADDR PORT: a map's end, A.B.C.D:PORT or [ADDR]:PORT.
netem_ep() {
	case $1 in
	*:*) echo "[$1]:$2" ;;
	*) echo "$1:$2" ;;
	esac
}

# netem_map PROTO ADDR PORT SHAPE: the map from ADDR's twin to ADDR.
netem_map() {
	echo "$1:$(netem_ep "$(netem_twin "$2")" "$3")=$(netem_ep "$2" "$3"),$4"
}

# The relay's maps: every server address that listens, to its twin.
netem_maps() {
	local role a d s
	for role in dns https smtp; do
		s=$(netem_shape "${netem_rtt[$role]}" "${netem_jit[$role]}" "${netem_los[$role]}")
		case $role in
		dns)
			for a in "$nsd_ip" "$ub_ip"; do
				netem_map udp "$a" "$dns_port" "$s"
				netem_map tcp "$a" "$dns_port" "$s"
			done
			if [ -n "$netem_v6" ]; then # IPv6 twins of IPv4 servers
				for d in "$netem_nsd6=$nsd_ip" "$netem_ub6=$ub_ip"; do
					a=${d#*=} d=${d%=*}
					echo "udp:[$d]:$dns_port=$a:$dns_port,$s"
					echo "tcp:[$d]:$dns_port=$a:$dns_port,$s"
				done
			fi
			hier_netem_maps "$s" # --hierarchy: every hop of the iteration
			;;
		https)
			{
				sed -n -e 's/^[[:space:]]*listen[[:space:]]\{1,\}\([0-9.]*\):[0-9]*[[:space:];].*/\1/p' \
					-e 's/^[[:space:]]*listen[[:space:]]\{1,\}\[\([0-9a-f:]*\)\]:[0-9]*[[:space:];].*/\1/p' "$conf"
				echo "$hang_ip"
			} | sort -u | while read -r a; do
				netem_map tcp "$a" "$https_port" "$s"
			done
			;;
		smtp)
			[ -z "$postfix_why" ] || continue
			sed -n -e "s/^\\([0-9.]*\\):${smtp_port}[[:space:]]\\{1,\\}inet[[:space:]].*/\\1/p" \
				-e "s/^\\[\\([0-9a-f:]*\\)\\]:${smtp_port}[[:space:]]\\{1,\\}inet[[:space:]].*/\\1/p" \
				"$pf_conf/master.cf" | sort -u | while read -r a; do
				netem_map tcp "$a" "$smtp_port" "$s"
			done
			;;
		esac
	done
}

netem_start() {
	local pid
	[ -n "$netem_on" ] || return 0
	{
		echo "# written by world-up for $dir"
		netem_maps
	} >"$run/netem.conf"
	# The config path names DIR: world-down only stops processes whose
	# command line does.
	start netem "$netem_bin" --config "$run/netem.conf"
	pid=$(cat "$run/netem.pid")
	for _ in $(seq 100); do
		alive "$pid" || { log_tail netem; die "nm_relay exited at start-up"; }
		grep -q '^nm_relay: ready' "$run/netem.out" 2>/dev/null && break
		sleep 0.1
	done
	grep -q '^nm_relay: ready' "$run/netem.out" || { log_tail netem; die "nm_relay did not get ready"; }
}

# netem_verify: after every server and the relay are up: Unbound answers
# through the relay; run/netem.env for the scanner.
netem_verify() {
	[ -n "$netem_on" ] || return 0
	dig @"$netem_ub" -p "$dns_port" +time=3 +tries=2 SOA "$tld." 2>/dev/null |
		grep -q 'status: NOERROR' || { log_tail netem; die "no answer from Unbound through the relay at $netem_ub"; }
	cat >"$run/netem.env" <<EOF
# written by world-up: the addresses to scan the world through the relay
resolver=$netem_ub:$dns_port
nsd=$netem_nsd:$dns_port
resolver6=${netem_ub6:+[$netem_ub6]:$dns_port}
nsd6=${netem_nsd6:+[$netem_nsd6]:$dns_port}
dns="rtt=${netem_rtt[dns]} jitter=${netem_jit[dns]} loss=${netem_los[dns]}"
https="rtt=${netem_rtt[https]} jitter=${netem_jit[https]} loss=${netem_los[https]}"
smtp="rtt=${netem_rtt[smtp]} jitter=${netem_jit[smtp]} loss=${netem_los[smtp]}"
EOF
}

netem_summary() {
	[ -n "$netem_on" ] || return 0
	echo "  netem    $(grep -c '^[ut]' "$run/netem.conf") paths via 127.10x.x.y; resolver $netem_ub:$dns_port; dns ${netem_rtt[dns]}/${netem_jit[dns]}/${netem_los[dns]}%, https ${netem_rtt[https]}/${netem_jit[https]}/${netem_los[https]}%, smtp ${netem_rtt[smtp]}/${netem_jit[smtp]}/${netem_los[smtp]}% (rtt ms/jitter ms/loss)   pid $(cat "$run/netem.pid")"
}
