#!/usr/bin/env bash
# Self-check of the served test world: generate the catalog, serve it with
# scripts/world-up, and check with dig, curl and openssl that what the
# servers answer agrees with the world's ground truth (truth.jsonl), its
# zone and mx-hosts.txt; then scripts/world-down must leave no process
# behind.  Then the same, on a sample, for a small bulk world.
#
# Usage: test_world.sh PATH/TO/stsmap
# Exits 77 (skipped) when nsd, unbound, nginx, the ldns tools, dig, curl or
# openssl are missing.  Ports 5300 (DNS), 8443 (HTTPS) and 2525 (SMTP), so
# no root is needed for the rest; Postfix (the MX hosts) needs root and the
# postfix package: without them its checks are skipped and, if everything
# else passed, the test exits 77 rather than claim a pass.
# Everything stays on 127.0.0.0/8 (the world's address plan: README, "The
# test world").
# The checks pass single-quoted tests to eval on purpose (they expand there).
# shellcheck disable=SC2016
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source=../lib/world.sh
. "$here/../lib/world.sh"
need_binary stsmap stsmap "${1:-}"
bulk_domains=3000
ub=127.1.0.2
nsd=127.1.0.1
world_need_tools
need_tools openssl:openssl

# Postfix: only as root with the package installed (world-up's rule).
postfix_skip=""
if [ "$(id -u)" -ne 0 ]; then
	postfix_skip="not root"
elif ! command -v postconf >/dev/null 2>&1; then
	postfix_skip="postfix not installed (apt-get install postfix)"
fi

lib_tmpdir world
w=$tmp/w
b=$tmp/b

# section NAME: say how long the previous section took.
t_section=$SECONDS
section() {
	echo "# $1 (previous part: $((SECONDS - t_section)) s)"
	t_section=$SECONDS
}
# mx_check_all WORLD LINES: STARTTLS to each "host address behaviour tlsa"
# line of LINES (a file), several at once; one ok/FAIL line per host.
cat >"$tmp/mx_check.sh" <<'EOF'
# mx_check.sh CA PORT HOST ADDR BEHAVIOUR [TLSA]: openssl against one MX
# host.  Parsing with bash itself: this runs hundreds of times.
ca=$1 port=$2 host=$3 addr=$4 beh=$5
out=$(timeout 20 openssl s_client -starttls smtp -connect "$addr:$port" \
	-servername "$host" -CAfile "$ca" -verify_hostname "$host" </dev/null 2>&1)
rc=$?
code=""
re='Verify return code: ([0-9]+)'
[[ $out =~ $re ]] && code=${BASH_REMATCH[1]}
case $beh in
starttls-valid) want=0 ;;
wrong-name) want=62 ;; # X509_V_ERR_HOSTNAME_MISMATCH
expired) want=10 ;;    # X509_V_ERR_CERT_HAS_EXPIRED
no-starttls) want=none ;;
*) want=unknown ;;
esac
if [ "$want" = none ]; then
	if [[ $out == *"Didn't find STARTTLS"* ]] && [ "$rc" -ne 0 ]; then
		echo "ok - $host ($addr): STARTTLS not offered, openssl fails (exit $rc)"
	else
		echo "FAIL - $host ($addr): $beh, but openssl exit $rc, verify code '$code'"
	fi
elif [ "$code" = "$want" ]; then
	echo "ok - $host ($addr): $beh, Verify return code: $code"
else
	echo "FAIL - $host ($addr): $beh, Verify return code '$code' (want $want), exit $rc$(
		grep -m1 -iE 'error|errno' <<<"$out" | cut -c1-120 | sed 's/^/: /')"
fi
EOF
# mx_start WORLD LINES: start those checks in the background (they take a
# while: an smtpd starts for each address), results in $tmp/mx.out;
# mx_report: wait for them and count the results.
mx_start() {
	mx_n=$(wc -l <"$2")
	mx_t0=$SECONDS
	xargs -P 6 -L 1 bash "$tmp/mx_check.sh" "$1/tls/ca.pem" "$smtp_port" \
		<"$2" >"$tmp/mx.out" 2>&1 &
	mx_job=$!
}
mx_report() {
	local line
	wait "$mx_job" || true
	while read -r line; do
		case $line in
		ok*) ok "${line#ok - }" ;;
		*) bad "${line#FAIL - }" ;;
		esac
	done <"$tmp/mx.out"
	[ "$(grep -c '' "$tmp/mx.out")" -eq "$mx_n" ] ||
		bad "$mx_n MX hosts, $(grep -c '' "$tmp/mx.out") results"
	echo "$mx_n MX hosts checked with openssl in $((SECONDS - mx_t0)) s"
}
# tlsa_of WORLD: the RDATA every TLSA record must have: DANE-EE SPKI SHA-256
# of the shared leaf key (RFC 7672 §3.1.1).
tlsa_of() {
	echo "3 1 1 $(openssl pkey -in "$1/tls/leaf.key" -pubout -outform DER 2>/dev/null |
		openssl dgst -sha256 -r | cut -d' ' -f1)"
}
# servers_up WORLD: check its PID files; collects the PIDs in pids.
servers_up() {
	local n f
	for n in nsd unbound nginx hang postfix; do
		f=$1/run/$n.pid
		if [ $n = postfix ] && [ -n "$postfix_skip" ]; then
			check "postfix not started ($postfix_skip), run/postfix.skipped says why" \
				eval '[ ! -f "$f" ] && [ -s "${f%.pid}.skipped" ]'
			continue
		fi
		if [ -f "$f" ] && alive "$(cat "$f")"; then
			ok "$n running, pid in ${1#"$tmp"/}/run/$n.pid"
			pids+=("$(cat "$f")")
		else
			bad "$n running, pid in ${1#"$tmp"/}/run/$n.pid"
		fi
	done
}
# servers_down WORLD: world-down must stop every process of pids and
# their children.
servers_down() {
	local all=() p left="" down=0 run=$1/run
	for p in "${pids[@]}"; do
		all+=("$p")
		mapfile -t -O "${#all[@]}" all < <(descendants "$p")
	done
	"$scripts/world-down" "$1" >"$tmp/down.log" 2>&1 || down=$?
	check "world-down exits 0" [ "$down" -eq 0 ]
	for p in "${all[@]}"; do alive "$p" && left="$left $p"; done
	check "no process left (${#all[@]} checked:${left:- none alive})" [ -z "$left" ]
	check "PID files removed" eval '! ls "$run"/*.pid >/dev/null 2>&1'
	pids=()
}

# --- generate and serve -------------------------------------------------------
world_generate "$w"
t0=$(date +%s)
world_up "$w" || { cat "$w.up.log" >&2; die "world-up failed"; }
echo "world-up took $(($(date +%s) - t0)) s"

pids=()
servers_up "$w"
# The STARTTLS checks run beside the DNS and HTTPS ones (results below).
[ -n "$postfix_skip" ] || mx_start "$w" "$w/mx-hosts.txt"
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
section "DNS"
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
section "HTTPS"
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

# --- SMTP: the MX hosts, against mx-hosts.txt ---------------------------------------
section "SMTP"
want_tlsa=$(tlsa_of "$w")
want_tlsa=${want_tlsa^^}
# One dig for every TLSA host; per answer: owner, status, AD, RDATA.
mapfile -t tlsa_hosts < <(awk '$4 == "tlsa" { print $1 }' "$w/mx-hosts.txt")
qs=()
for h in "${tlsa_hosts[@]}"; do qs+=(TLSA "_25._tcp.$h"); done
dig @"$ub" -p "$dns_port" +time=3 +tries=1 +dnssec +noall +comments +answer \
	"${qs[@]}" 2>&1 | awk '
	/^;; ->>HEADER<<-/ { st = $6; sub(/,$/, "", st) }
	/^;; flags:/ { ad = ($0 ~ /^;; flags:[^;]* ad[ ;]/) ? "ad" : "-" }
	$4 == "TLSA" { h = ""; for (i = 8; i <= NF; i++) h = h $i
		print $1, st, ad, $5, $6, $7, toupper(h) }' >"$tmp/tlsa"
for h in "${tlsa_hosts[@]}"; do
	got=$(awk -v o="_25._tcp.$h." '$1 == o { $1 = ""; print substr($0, 2) }' "$tmp/tlsa")
	check "TLSA _25._tcp.$h: ${got:-none} (want NOERROR, AD)" \
		[ "$got" = "NOERROR ad $want_tlsa" ]
done
check "TLSA records: ${#tlsa_hosts[@]} (every 4th provider's two hosts)" \
	[ "${#tlsa_hosts[@]}" -eq 76 ]
for host in mx1.prov001.test mx-expired.test mx1.enforce-ok-own-mx.test; do
	q TLSA "_25._tcp.$host"
	check "no TLSA for $host: NXDOMAIN, validated (AD)" eval '[ "$(status)" = NXDOMAIN ] && ad'
done
if [ -n "$postfix_skip" ]; then
	echo "skip - STARTTLS checks of the MX hosts: Postfix not started ($postfix_skip)"
else
	mx_report
	# No SNI: a host alone on its address still serves its own chain.
	out=$(timeout 20 openssl s_client -starttls smtp -connect 127.4.0.1:$smtp_port \
		-CAfile "$ca" </dev/null 2>&1 || true)
	h=$(awk '$2 == "127.4.0.1" { print $1; exit }' "$w/mx-hosts.txt")
	check "no SNI at 127.4.0.1: the chain of $h" \
		eval 'grep -q "^subject=CN = $h\$" <<<"$out" && grep -q "Verify return code: 0" <<<"$out"'
	# A STARTTLS endpoint only: every transaction is refused, nothing queued.
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(PeerAddr => "127.3.0.1", PeerPort => $ARGV[0],
		                              Timeout => 10) or die "connect: $!\n";
		sub r { my $l; do { $l = <$s>; print $l } while defined $l && $l =~ /^\d\d\d-/ }
		r();
		for ("EHLO test.invalid", "MAIL FROM:<a\@b.test>", "RCPT TO:<c\@d.test>",
		     "DATA", "QUIT") { print $s "$_\r\n"; print ">$_\n"; r() }' \
		"$smtp_port" >"$tmp/smtp.log" 2>&1 || true
	check "MAIL FROM refused (5xx), so no RCPT and no DATA" \
		eval 'grep -A1 "^>MAIL" "$tmp/smtp.log" | grep -q "^554 " &&
			grep -A1 "^>DATA" "$tmp/smtp.log" | grep -q "^503 "'
	check "no queue file under run/postfix" \
		eval '[ -z "$(find "$w/run/postfix" -type f ! -path "*/pid/*" | head -n1)" ]'
	check "master.cf has no cleanup, qmgr, pickup or delivery service" \
		eval '! grep -Eq "^(cleanup|qmgr|pickup|smtp|relay|local|virtual|lmtp)[[:space:]]" "$w/postfix/master.cf"'
fi

# --- world-down -------------------------------------------------------------------
section "world-down"
servers_down "$w"
check "NSD no longer answers" eval '! dig @$nsd -p $dns_port +time=1 +tries=1 SOA test. | grep -q "status:"'
check "no MX listener left" \
	perl "$w/run/smtp-check.pl" free "$smtp_port" "$w/mx-hosts.txt" "$w/postfix/master.cf" 0
down=0
"$scripts/world-down" "$w" >"$tmp/down2.log" 2>&1 || down=$?
check "second world-down is a no-op" \
	eval '[ "$down" -eq 0 ] && grep -q "nothing running" "$tmp/down2.log"'

# --- a small bulk world: group certificates, shared per-domain addresses -------------
section "bulk world"
world_generate "$b" --domains "$bulk_domains" --seed 7
world_up "$b" || { cat "$b.up.log" >&2; die "world-up of the bulk world failed"; }
servers_up "$b"
# The sample: every non-provider shared host, a few providers, and every
# 25th per-domain host (several per address and certificate group).
{
	grep -v ' 127\.[34]\.[0-9]*\.[0-9]* starttls-valid' "$b/mx-hosts.txt"
	grep ' 127\.3\.' "$b/mx-hosts.txt" | awk 'NR % 60 == 1'
	grep ' 127\.4\.' "$b/mx-hosts.txt" | awk 'NR % 25 == 1'
} >"$tmp/sample.txt"
check "bulk: $(grep -c ' 127\.4\.' "$tmp/sample.txt") per-domain MX hosts sampled on $(awk '$2 ~ /^127\.4\./ { print $2 }' "$tmp/sample.txt" | sort -u | wc -l) addresses" \
	[ "$(grep -c ' 127\.4\.' "$tmp/sample.txt")" -ge 10 ]
if [ -n "$postfix_skip" ]; then
	echo "skip - STARTTLS checks of the bulk world's MX hosts ($postfix_skip)"
else
	mx_start "$b" "$tmp/sample.txt"
	mx_report
fi
read -r h a _ < <(grep ' 127\.4\.' "$b/mx-hosts.txt" | tail -n1)
q A "$h"
got=$(sed -n '/^;; ANSWER SECTION:/,/^$/p' "$tmp/dig" | awk '$4 == "A" { print $5 }')
check "bulk: $h resolves to $a, as mx-hosts.txt says (got $got)" [ "$got" = "$a" ]
servers_down "$b"

if [ "$fail" -gt 0 ]; then
	echo "--- world-up output and server logs ---"
	cat "$w.up.log" "$b.up.log" 2>/dev/null || true
	tail -n 15 "$w/run/nsd.log" "$w/run/unbound.log" "$w/nginx/logs/error.log" \
		"$w/run/postfix.log" 2>/dev/null || true
fi
section "done"
finish || exit 1
if [ -n "$postfix_skip" ]; then
	echo "SKIP: Postfix part not run ($postfix_skip); everything else passed"
	exit 77
fi
