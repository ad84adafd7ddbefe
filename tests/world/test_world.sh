#!/usr/bin/env bash
# Self-check of the served test world: generate the catalog, serve it with
# scripts/world-up, and check with dig and curl that what the servers answer
# agrees with the world's ground truth (truth.jsonl) and its zone; then
# scripts/world-down must leave no process behind.
#
# Usage: test_world.sh PATH/TO/stsmap
# Exits 77 (skipped) when nsd, unbound, nginx, the ldns tools, dig or curl
# are missing.  Ports 5300 (DNS) and 8443 (HTTPS), so no root is needed.
# Everything stays on 127.0.0.0/8 (the world's address plan: README, "The
# test world").
# The checks pass single-quoted tests to eval on purpose (they expand there).
# shellcheck disable=SC2016
set -euo pipefail

stsmap=${1:?usage: test_world.sh STSMAP}
PATH=$PATH:/usr/sbin:/sbin
here=$(cd "$(dirname "$0")" && pwd -P)
scripts=$(cd "$here/../../scripts" && pwd -P)
dns_port=5300
https_port=8443
ub=127.1.0.2
nsd=127.1.0.1

skip() {
	echo "SKIP: $*"
	exit 77
}
for t in nsd:nsd unbound:unbound nginx:nginx-light ldns-keygen:ldnsutils \
	ldns-signzone:ldnsutils dig:dnsutils curl:curl perl:perl-base; do
	command -v "${t%%:*}" >/dev/null 2>&1 ||
		skip "${t%%:*} not installed (apt-get install ${t#*:})"
done
[ -x "$stsmap" ] || {
	echo "test_world: $stsmap is not an executable" >&2
	exit 2
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/stsmap-world.XXXXXX")
w=$tmp/w
cleanup() {
	trap '' INT TERM
	if [ -d "$w/run" ]; then
		"$scripts/world-down" "$w" >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() {
	echo "test_world: $*" >&2
	exit 1
}

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
# check DESC TEST...: count TEST's outcome.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else bad "$desc"; fi
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

# --- generate and serve -------------------------------------------------------
"$stsmap" world --out "$w" --dns-port "$dns_port" --https-port "$https_port" \
	>"$tmp/gen.log" 2>&1 || { cat "$tmp/gen.log" >&2; die "stsmap world failed"; }
t0=$(date +%s)
if ! "$scripts/world-up" "$w" >"$tmp/up.log" 2>&1; then
	cat "$tmp/up.log" >&2
	die "world-up failed"
fi
echo "world-up took $(($(date +%s) - t0)) s"

pids=()
for n in nsd unbound nginx hang; do
	f=$w/run/$n.pid
	if [ -f "$f" ] && alive "$(cat "$f")"; then
		ok "$n running, pid in run/$n.pid"
		pids+=("$(cat "$f")")
	else
		bad "$n running, pid in run/$n.pid"
	fi
done
before=$(cat "$w"/run/*.pid | sort)
up2=0
"$scripts/world-up" "$w" >"$tmp/up2.log" 2>&1 || up2=$?
check "second world-up exits 0" [ "$up2" -eq 0 ]
check "second world-up says it is already up" grep -q 'already up' "$tmp/up2.log"
check "second world-up leaves the same processes" \
	[ "$(cat "$w"/run/*.pid | sort)" = "$before" ]

zone=$w/dns/test.zone
ca=$w/tls/ca.pem
mapfile -t domains < <(sed 's/^{"domain":"\([^"]*\)".*/\1/' "$w/truth.jsonl")
[ ${#domains[@]} -gt 50 ] || die "truth.jsonl has only ${#domains[@]} domains"

# truth D: D's truth line.  has_code LINE CODE: LINE lists CODE.
truth() { grep -F "{\"domain\":\"$1\"," "$w/truth.jsonl"; }
has_code() { case $1 in *"\"$2\""*) return 0 ;; esac; return 1; }
# zone_txt NAME: the TXT RDATA of NAME in the zone file, sorted, following
# one CNAME (as a resolver would).
zone_txt() {
	local tgt
	tgt=$(awk -v n="$1." '$1 == n && $4 == "CNAME" { print $5; exit }' "$zone")
	[ -n "$tgt" ] && set -- "${tgt%.}"
	awk -v n="$1." '$1 == n && $4 == "TXT"' "$zone" |
		sed -E 's/^[^[:space:]]+[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+TXT[[:space:]]+//' |
		sort
}
# q ARGS...: dig via the world's Unbound, with DO; output in $tmp/dig.
q() {
	dig @"$ub" -p "$dns_port" +time=3 +tries=1 +dnssec "$@" >"$tmp/dig" 2>&1 || true
}
status() { sed -n 's/.*status: \([A-Z]*\),.*/\1/p' "$tmp/dig"; }
ad() { grep -Eq '^;; flags:[^;]* ad[ ;]' "$tmp/dig"; }
answer_txt() {
	sed -n '/^;; ANSWER SECTION:/,/^$/p' "$tmp/dig" |
		awk '$4 == "TXT"' |
		sed -E 's/^[^[:space:]]+[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+TXT[[:space:]]+//' |
		sort
}

# --- DNS: the _mta-sts records, against zone and truth ---------------------------
for d in "${domains[@]}"; do
	t=$(truth "$d")
	q TXT "_mta-sts.$d"
	st=$(status)
	want=$(zone_txt "_mta-sts.$d")
	if has_code "$t" sts-record.dns-failure; then
		check "$d: _mta-sts TXT SERVFAIL (truth: sts-record.dns-failure)" [ "$st" = SERVFAIL ]
	elif [ -z "$want" ]; then
		# No record is only right if the truth says there is no policy.
		case $t in
		*'"verdict":"no-policy"'*) check "$d: _mta-sts NXDOMAIN (truth: no-policy)" [ "$st" = NXDOMAIN ] ;;
		*) bad "$d: no _mta-sts TXT in the zone, but truth has a policy" ;;
		esac
		check "$d: NXDOMAIN validated (AD)" ad
	else
		got=$(answer_txt)
		if [ "$st" = NOERROR ] && [ "$got" = "$want" ]; then
			ok "$d: _mta-sts TXT as in the zone ($(echo "$want" | wc -l) RR)"
		else
			bad "$d: _mta-sts TXT: status $st, got [$got], want [$want]"
		fi
		check "$d: TXT validated (AD)" ad
	fi
done

q A "www.broken.test"
check "broken delegation: SERVFAIL" [ "$(status)" = SERVFAIL ]
q SOA test.
check "SOA test. via Unbound: NOERROR with AD" eval '[ "$(status)" = NOERROR ] && ad'
dig @"$nsd" -p "$dns_port" +time=3 +tries=1 +norec +dnssec TXT _mta-sts.enforce-ok.test >"$tmp/dig" 2>&1 || true
check "NSD answers authoritatively (aa) with RRSIG" \
	eval 'grep -Eq "^;; flags:[^;]* aa[ ;]" "$tmp/dig" && grep -q "RRSIG[[:space:]]*TXT" "$tmp/dig"'
q A "example.com"
check "nothing outside the world resolves (example.com not NOERROR)" \
	[ "$(status)" != NOERROR ]

# --- HTTPS: the policy hosts, against truth -----------------------------------------
cert_codes="policy-host.cert-expired policy-host.cert-not-yet-valid
policy-host.cert-self-signed policy-host.cert-untrusted policy-host.cert-name-mismatch"
for d in "${domains[@]}"; do
	t=$(truth "$d")
	case $t in *'"verdict":"no-policy"'* | *'"sts-record.dns-failure"'*) continue ;; esac
	h=mta-sts.$d
	q A "$h"
	addr=$(sed -n '/^;; ANSWER SECTION:/,/^$/p' "$tmp/dig" | awk '$4 == "A" { a = $5 } END { print a }')
	if has_code "$t" policy-host.no-address || has_code "$t" policy-host.dangling-cname; then
		check "$d: $h has no address (truth: $(grep -o 'policy-host\.[a-z-]*' <<<"$t" | head -n1))" [ -z "$addr" ]
		continue
	fi
	if [ -z "$addr" ]; then
		bad "$d: $h has no address"
		continue
	fi
	rc=0
	code=$(curl -sS -m 3 -o "$tmp/body" -D "$tmp/hdr" -w '%{http_code}' \
		--cacert "$ca" --resolve "$h:$https_port:$addr" \
		"https://$h:$https_port/.well-known/mta-sts.txt" 2>"$tmp/curl.err") || rc=$?
	ctype=$(tr -d '\r' <"$tmp/hdr" 2>/dev/null | sed -n 's/^[Cc]ontent-[Tt]ype: //p' | tail -n1)
	what="curl exit $rc, HTTP $code, type '$ctype'$(head -n1 "$tmp/curl.err" | cut -c1-100 | sed "s/^./; &/")"
	cert=""
	for c in $cert_codes; do has_code "$t" "$c" && cert=$c; done
	if [ -n "$cert" ]; then
		check "$d: certificate rejected (truth: $cert; $what)" eval '[ "$rc" -eq 60 ] || [ "$rc" -eq 51 ]'
	elif has_code "$t" policy-host.connect-refused; then
		check "$d: connection refused at $addr ($what)" [ "$rc" -eq 7 ]
	elif has_code "$t" policy-host.tls-handshake; then
		check "$d: TLS handshake fails at $addr ($what)" [ "$rc" -eq 35 ]
	elif has_code "$t" http.timeout; then
		check "$d: times out at $addr ($what)" [ "$rc" -eq 28 ]
	elif has_code "$t" http.not-found; then
		check "$d: 404 ($what)" [ "$rc.$code" = 0.404 ]
	elif has_code "$t" http.status; then
		check "$d: 500 ($what)" [ "$rc.$code" = 0.500 ]
	elif has_code "$t" http.redirect; then
		check "$d: 301 with a Location ($what)" \
			eval '[ "$rc.$code" = 0.301 ] && grep -qi "^location: https://" "$tmp/hdr"'
	elif has_code "$t" http.content-type; then
		check "$d: 200 text/html ($what)" \
			eval '[ "$rc.$code" = 0.200 ] && [ "${ctype%%;*}" = text/html ]'
	elif has_code "$t" http.too-large; then
		check "$d: 200 with more than 64 KiB ($what, $(wc -c <"$tmp/body") bytes)" \
			eval '[ "$rc.$code" = 0.200 ] && [ "$(wc -c <"$tmp/body")" -gt 65536 ]'
	else
		# Everything else is served as written, byte for byte.
		check "$d: 200 text/plain, body = www/$h/mta-sts.txt ($what)" \
			eval '[ "$rc.$code" = 0.200 ] && [ "${ctype%%;*}" = text/plain ] &&
				cmp -s "$tmp/body" "$w/nginx/www/$h/mta-sts.txt"'
	fi
done

# --- world-down -------------------------------------------------------------------
all=()
for p in "${pids[@]}"; do
	all+=("$p")
	mapfile -t -O "${#all[@]}" all < <(descendants "$p")
done
down=0
"$scripts/world-down" "$w" >"$tmp/down.log" 2>&1 || down=$?
check "world-down exits 0" [ "$down" -eq 0 ]
left=""
for p in "${all[@]}"; do alive "$p" && left="$left $p"; done
check "no process left (${#all[@]} checked:${left:- none alive})" [ -z "$left" ]
check "PID files removed" eval '! ls "$w"/run/*.pid >/dev/null 2>&1'
check "NSD no longer answers" eval '! dig @$nsd -p $dns_port +time=1 +tries=1 SOA test. | grep -q "status:"'
down=0
"$scripts/world-down" "$w" >"$tmp/down2.log" 2>&1 || down=$?
check "second world-down is a no-op" \
	eval '[ "$down" -eq 0 ] && grep -q "nothing running" "$tmp/down2.log"'

if [ "$fail" -gt 0 ]; then
	echo "--- world-up output and server logs ---"
	cat "$tmp/up.log"
	tail -n 15 "$w/run/nsd.log" "$w/run/unbound.log" "$w/nginx/logs/error.log" 2>/dev/null || true
fi
echo "world: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
