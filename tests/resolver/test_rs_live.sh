#!/usr/bin/env bash
# Live test of the resolver against real servers on loopback: an NSD serving
# a DNSSEC-signed zone and an unsigned one, and a validating Unbound that
# recurses to it.  Every answer checked here is written into the zones below,
# so the zone text is the ground truth.
#
# Usage: test_rs_live.sh PATH/TO/rs_query
# Exits 77 (skipped) when nsd, unbound or the ldns tools are not installed.
# Environment: STSMAP_LIVE_PORT (5353) for both servers.
#
# Traffic stays on loopback: NSD on 127.0.53.1 (and ::1), Unbound on
# 127.0.53.2, the broken delegation points at 127.0.53.99, and Unbound has a
# stub for the root at NSD, so it never asks a real root server.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source=../lib/world.sh
. "$here/../lib/world.sh"
need_binary rsq rs_query "${1:-}"
port=${STSMAP_LIVE_PORT:-5353}
nsd_ip=127.0.53.1
ub_ip=127.0.53.2
dead_ip=127.0.53.99 # nothing listens here
zone=stsmap-test    # signed
plain=stsmap-plain  # unsigned
nsd_up=$nsd_ip:$port
ub_up=$ub_ip:$port
need_tools nsd:nsd unbound:unbound ldns-keygen:ldnsutils ldns-signzone:ldnsutils

# The servers are started with spawn and stopped by PID on exit (NSD forks
# its own processes; they exit with the one we started on SIGTERM, and are
# killed by PID with it if it has to be killed).
lib_tmpdir live

v6=0
if grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null; then
	v6=1
fi

# --- the zones -------------------------------------------------------------
big=$(printf 'x%.0s' $(seq 249)) # 6 TXT RRs of 250 bytes: > 1232, so TC
tlsa=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
cat >"$tmp/$zone.zone" <<EOF
\$ORIGIN $zone.
\$TTL 300
@               SOA   ns hostmaster 1 3600 900 604800 300
@               NS    ns
ns              A     $nsd_ip
@               MX    10 mx
@               MX    20 mx2
mx              A     192.0.2.25
mx              AAAA  2001:db8::25
mx2             A     192.0.2.26
_25._tcp.mx     TLSA  3 1 1 $tlsa
nullmx          MX    0 .
mixed           MX    0 .
mixed           MX    10 mx
_mta-sts        TXT   "v=STSv1; " "id=20240101"
esc             TXT   "a\\009b\\\\" "\\255"
a               CNAME b
b               CNAME c
c               A     192.0.2.3
aonly           A     192.0.2.10
v6              AAAA  2001:db8::1
v6              AAAA  2001:db8::2
big             TXT   "1$big"
big             TXT   "2$big"
big             TXT   "3$big"
big             TXT   "4$big"
big             TXT   "5$big"
big             TXT   "6$big"
broken          NS    ns.broken
ns.broken       A     $dead_ip
EOF
cat >"$tmp/$plain.zone" <<EOF
\$ORIGIN $plain.
\$TTL 300
@               SOA   ns.$zone. hostmaster.$zone. 1 3600 900 604800 300
@               NS    ns.$zone.
_mta-sts        TXT   "v=STSv1; id=plain"
EOF

# Sign with one ECDSA P-256 key that is both KSK and ZSK (a CSK); its DS is
# Unbound's trust anchor.
(
	cd "$tmp"
	key=$(ldns-keygen -a ECDSAP256SHA256 -k -r /dev/urandom "$zone.")
	ldns-signzone -i "$(($(date +%s) - 3600))" -o "$zone." \
		"$zone.zone" "$key"
	cp "$key.ds" anchor.ds
) >"$tmp/sign.log" 2>&1 || { cat "$tmp/sign.log" >&2; die "signing failed"; }

# --- the servers -----------------------------------------------------------
{
	cat <<EOF
server:
	ip-address: $nsd_ip@$port
EOF
	[ "$v6" -eq 1 ] && echo "	ip-address: ::1@$port"
	cat <<EOF
	port: $port
	do-ip6: $([ "$v6" -eq 1 ] && echo yes || echo no)
	username: ""
	chroot: ""
	zonesdir: "$tmp"
	pidfile: "$tmp/nsd.pid"
	zonelistfile: "$tmp/nsd.zonelist"
	xfrdfile: "$tmp/nsd.xfrd"
	xfrdir: "$tmp"
	database: ""
	logfile: "$tmp/nsd.log"
	server-count: 1
	verbosity: 1
	hide-version: yes
remote-control:
	control-enable: no
zone:
	name: "$zone."
	zonefile: "$zone.zone.signed"
zone:
	name: "$plain."
	zonefile: "$plain.zone"
EOF
} >"$tmp/nsd.conf"

cat >"$tmp/unbound.conf" <<EOF
server:
	interface: $ub_ip@$port
	port: $port
	do-ip6: no
	username: ""
	chroot: ""
	directory: "$tmp"
	pidfile: "$tmp/unbound.pid"
	logfile: "$tmp/unbound.log"
	use-syslog: no
	verbosity: 1
	val-log-level: 2
	num-threads: 1
	so-reuseport: no
	access-control: 127.0.0.0/8 allow
	do-not-query-localhost: no
	# Give up on the dead delegation in about a second, not two minutes.
	infra-cache-max-rtt: 500
	module-config: "validator iterator"
	trust-anchor-file: "$tmp/anchor.ds"
	domain-insecure: "$plain."
remote-control:
	control-enable: no
stub-zone:
	name: "$zone."
	stub-addr: $nsd_ip@$port
stub-zone:
	name: "$plain."
	stub-addr: $nsd_ip@$port
stub-zone:
	name: "."
	stub-addr: $nsd_ip@$port
EOF

# wait_ready NAME PID UPSTREAM: poll until the server answers (any rcode).
wait_ready() {
	local name=$1 pid=$2 up=$3
	wait_up "$pid" 10 "$rsq" --upstream "$up" --timeout-ms 200 --retries 0 \
		"ns.$zone." A && return 0
	cat "$tmp/$name.log" "$tmp/$name.out" >&2 2>/dev/null || true
	alive "$pid" || die "$name exited at start-up (log above)"
	die "$name (pid $pid) did not answer rs_query on $up within 10 s" \
		"(log above; if dig @${up%:*} -p $port ns.$zone answers, suspect rs_query)"
}

# A server already there (another run of this test?) would share the port
# and answer in our place.
for up in "$nsd_up" "$ub_up"; do
	if "$rsq" --upstream "$up" --timeout-ms 200 --retries 0 "ns.$zone." A \
		>/dev/null 2>&1; then
		die "something already answers DNS on $up (another run of this" \
			"test?); set STSMAP_LIVE_PORT to use another port"
	fi
done

spawn nsd -d -c "$tmp/nsd.conf" >"$tmp/nsd.out" 2>&1
wait_ready nsd "$spawned" "$nsd_up"
spawn unbound -d -c "$tmp/unbound.conf" >"$tmp/unbound.out" 2>&1
wait_ready unbound "$spawned" "$ub_up"

# --- the checks ------------------------------------------------------------
out=$tmp/last.out

# q ARGS...: run rs_query ARGS; stdout in $out, exit status in $qrc.
q() {
	qargs="$*"
	qrc=0
	timeout --foreground 60 "$rsq" "$@" >"$out" 2>"$tmp/last.err" || qrc=$?
}
# check DESC TEST...: record whether TEST succeeds, about the last q.
check() {
	local desc=$1
	shift
	if "$@"; then
		ok "$desc"
	else
		bad "$desc"
		echo "  rs_query $qargs (exit $qrc):"
		sed 's/^/  | /' "$out" "$tmp/last.err"
	fi
}
has() { grep -Eq -- "$1" "$out"; }
count() { [ "$(grep -Ec -- "$1" "$out" || true)" -eq "$2" ]; }
rc() { [ "$qrc" -eq "$1" ]; }

ok_hdr='status=answered rcode=NOERROR nodata=0'

# RFC 8461 §3.1, RFC 7208 §3.3: strings of one TXT RR join without spaces.
q --upstream "$nsd_up" "_mta-sts.$zone" TXT
check "TXT multi-string join" has '^rr TXT ttl=300 len=20 v=STSv1; id=20240101$'
check "TXT answered NOERROR, one RR, exit 0" has "^q=_mta-sts.$zone type=TXT $ok_hdr .* rrs=1$"
check "TXT exit status 0" rc 0

q --upstream "$nsd_up" "esc.$zone" TXT
check "TXT bytes outside 0x20-0x7e and '\\' escaped" \
	has '^rr TXT ttl=300 len=5 a\\x09b\\x5c\\xff$'

q --upstream "$nsd_up" "_MTA-STS.StsMap-Test." TXT
check "question name normalised (lower case, no dot)" has "^q=_mta-sts.$zone type=TXT status=answered"

q --upstream "$nsd_up" "a.$zone" A
check "CNAME chain a -> b -> c" has "^q=a.$zone type=A $ok_hdr .* cnames=b.$zone,c.$zone rrs=1$"
check "CNAME chain ends in c's A" has '^rr A ttl=300 192\.0\.2\.3$'

q --upstream "$ub_up" --do "a.$zone" A
check "CNAME chain via Unbound, validated" has "^q=a.$zone type=A $ok_hdr ad=1 .* cnames=b.$zone,c.$zone rrs=1$"

q --upstream "$nsd_up" "nx.$zone" A
check "NXDOMAIN" has "^q=nx.$zone type=A status=answered rcode=NXDOMAIN nodata=0 .* rrs=0$"
check "NXDOMAIN still exits 0 (answered)" rc 0

q --upstream "$nsd_up" "aonly.$zone" TXT
check "NODATA: NOERROR, nodata=1, no RR" has "^q=aonly.$zone type=TXT status=answered rcode=NOERROR nodata=1 .* rrs=0$"

q --upstream "$nsd_up" "outside.invalid" A
check "REFUSED from NSD for a name outside its zones" has '^q=outside.invalid type=A status=answered rcode=REFUSED '

q --upstream "$ub_up" --timeout-ms 3000 --retries 1 "www.broken.$zone" A
check "SERVFAIL via Unbound for a dead delegation" has "^q=www.broken.$zone type=A status=answered rcode=SERVFAIL "

q --upstream "$ub_up" --do "_mta-sts.$zone" TXT
check "AD set for the signed zone via Unbound with DO" has "^q=_mta-sts.$zone type=TXT $ok_hdr ad=1 "
check "AD answer carries the joined TXT" has '^rr TXT ttl=[0-9]+ len=20 v=STSv1; id=20240101$'

q --upstream "$ub_up" --do "_mta-sts.$plain" TXT
check "AD clear for the unsigned zone" has "^q=_mta-sts.$plain type=TXT $ok_hdr ad=0 "

# RFC 6840 §5.8: without DO (or AD) in the query, AD is not set.
q --upstream "$ub_up" "_mta-sts.$zone" TXT
check "AD clear without DO" has "^q=_mta-sts.$zone type=TXT $ok_hdr ad=0 "

# 6 x 251 bytes of RDATA do not fit 1232 bytes: TC, then TCP (RFC 7766).
q --upstream "$nsd_up" --edns 1232 "big.$zone" TXT
check "TC from NSD, retried over TCP" has "^q=big.$zone type=TXT $ok_hdr ad=0 tc=1 .* rrs=6$"
check "all 6 big TXT RRs, 250 bytes each" count '^rr TXT ttl=300 len=250 [1-6]x{249}$' 6
check "TCP counted in stats" has '^stats .* tcp=[1-9]'

q --upstream "$nsd_up" --edns 0 "big.$zone" TXT
check "TC without EDNS (512 bytes), TCP retry" has "^q=big.$zone type=TXT $ok_hdr ad=0 tc=1 .* rrs=6$"

q --upstream "$ub_up" --do "big.$zone" TXT
check "TC via Unbound, TCP retry, validated" has "^q=big.$zone type=TXT $ok_hdr ad=1 tc=1 .* rrs=6$"
check "all 6 big TXT RRs via Unbound" count '^rr TXT ttl=[0-9]+ len=250 [1-6]x{249}$' 6

q --upstream "$nsd_up" "$zone" MX
check "MX set" has "^q=$zone type=MX $ok_hdr .* rrs=2$"
check "MX 10 mx" has "^rr MX ttl=300 10 mx.$zone$"
check "MX 20 mx2" has "^rr MX ttl=300 20 mx2.$zone$"

q --upstream "$nsd_up" "nullmx.$zone" MX
check "null MX (RFC 7505) as '0 .'" has '^rr MX ttl=300 0 \.$'

q --upstream "$nsd_up" "mixed.$zone" MX
check "null MX beside a real MX: both returned" has "^q=mixed.$zone type=MX $ok_hdr .* rrs=2$"
check "null MX beside a real MX: the null one" has '^rr MX ttl=300 0 \.$'
check "null MX beside a real MX: the real one" has "^rr MX ttl=300 10 mx.$zone$"

q --upstream "$nsd_up" "_25._tcp.mx.$zone" TLSA
check "TLSA 3 1 1 as RDATA hex" has "^rr TLSA ttl=300 030101$tlsa$"

q --upstream "$nsd_up" "v6.$zone" AAAA
check "AAAA 2001:db8::1" has '^rr AAAA ttl=300 2001:db8::1$'
check "AAAA 2001:db8::2" has '^rr AAAA ttl=300 2001:db8::2$'

q --upstream "$nsd_up" "mx.$zone" AAAA "mx.$zone" A "mx.$zone" A
check "several questions, each answered" count "^q=mx.$zone type=(A|AAAA) $ok_hdr" 3
check "identical questions in flight coalesced" has '^stats submitted=3 coalesced=1 completed=3 '

if [ "$v6" -eq 1 ]; then
	q --upstream "[::1]:$port" "_mta-sts.$zone" TXT
	check "IPv6 upstream [::1]" has "^q=_mta-sts.$zone type=TXT $ok_hdr .* upstream=0 "
	check "IPv6 upstream answer" has '^rr TXT ttl=300 len=20 v=STSv1; id=20240101$'
else
	echo "SKIP: IPv6 upstream (no ::1 on this host)"
fi

# A dead first upstream: the retry goes to the second, which answers.
q --upstream "$dead_ip:$port" --upstream "$nsd_up" --timeout-ms 200 --retries 3 "c.$zone" A
check "retry moves to a live upstream" has "^q=c.$zone type=A $ok_hdr .* upstream=1 "

q --upstream "$dead_ip:$port" --timeout-ms 100 --retries 1 "c.$zone" A
check "timeout after 1 + retries attempts" has "^q=c.$zone type=A status=timeout rcode=- .* upstream=-1 attempts=2 "
check "timeout exits 1" rc 1

q --upstream "$nsd_up" "bad..name.$zone" A
check "invalid name rejected, exit 1" rc 1

q --upstream "$nsd_up" "c.$zone"
check "usage error exits 2" rc 2

if [ "$fail" -gt 0 ]; then
	echo "--- last lines of the server logs ---"
	tail -n 15 "$tmp/nsd.log" "$tmp/unbound.log" 2>/dev/null || true
fi
finish
