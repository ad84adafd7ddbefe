#!/usr/bin/env bash
# The emulated internet's paths: serve the catalog world with
# `world-up --latency 50 --jitter 5` and a profile that loses 10% of the
# DNS round trips, then observe, on the scanner-facing (twin) addresses
# against the servers' own:
#   - the added round trip, with dig (DNS), curl (HTTPS: TLS handshake and
#     request, one round trip each) and openssl s_client (SMTP STARTTLS);
#   - the loss, with dnsperf over a fixed number of queries;
#   - that the behaviours the truth relies on survive the relay: the policy
#     body byte for byte, refused stays refused, hang still hangs;
#   - that world-down stops the relay by its PID.
#
# Usage: test_netem.sh STSMAP NM_RELAY
# Ports 5300/8443/2525 (tests/lib/world.sh); everything on 127.0.0.0/8.
# The checks pass single-quoted tests to eval on purpose (they expand there).
# shellcheck disable=SC2016
set -euo pipefail

stsmap=${1:?usage: test_netem.sh STSMAP NM_RELAY}
export NM_RELAY=${2:?usage: test_netem.sh STSMAP NM_RELAY}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stsmap-netem.XXXXXX")
here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source=tests/lib/world.sh
. "$here/../lib/world.sh"
world_need_tools
for t in openssl dnsperf; do
	command -v "$t" >/dev/null 2>&1 || die "$t not installed (scripts/bootstrap installs it)"
done
[ "$(id -u)" -eq 0 ] || die "needs root (Postfix, for the SMTP path)"

rtt=50 jitter=5 dns_loss=10
w=$tmp/w
chmod o+x "$tmp"
"$stsmap" world --out "$w" --dns-port "$dns_port" --https-port "$https_port" \
	--smtp-port "$smtp_port" >"$tmp/gen.log" 2>&1 || die "stsmap world: $(cat "$tmp/gen.log")"
printf 'dns loss=%s  # the other roles: --loss 0\n' "$dns_loss" >"$tmp/profile"
served+=("$w")
t0=$SECONDS
"$scripts/world-up" --latency "$rtt" --jitter "$jitter" --netem-profile "$tmp/profile" \
	"$w" >"$tmp/up.log" 2>&1 || die "world-up --latency failed: $(tail -5 "$tmp/up.log")"
echo "world-up with the relay: $((SECONDS - t0)) s"
zone=$w/dns/test.zone
ca=$w/tls/ca.pem
ub=127.1.0.2 ub_twin=127.101.0.2 nsd=127.1.0.1 nsd_twin=127.101.0.1

check "world-up names the relay" grep -q '^  netem .*resolver 127.101.0.2' "$tmp/up.log"
check "run/netem.env gives the scanner the twin resolver" \
	grep -qx "resolver=$ub_twin:$dns_port" "$w/run/netem.env"
relay_pid=$(cat "$w/run/netem.pid")

# The tolerance of an added round trip: the jitter (uniform, +/-), plus
# what the CPU time of the direct measurement, subtracted, varies by on a
# busy 2-core machine (a TLS handshake: 5-30 ms).  Still far from no round
# trip (0) or two (100).
lo=$((rtt - jitter - 8)) hi=$((rtt + jitter + 12))

# --- DNS: dig against the same cached answer, direct and through the relay ----
dig_ms() { # dig_ms ADDR: one query's time in ms, nothing if it timed out
	{ dig @"$1" -p "$dns_port" +tries=1 +time=1 SOA test. 2>/dev/null || true; } |
		sed -n 's/^;; Query time: \([0-9]*\) msec/\1/p'
}
dig_ms "$ub" >/dev/null # cache it
for _ in $(seq 15); do dig_ms "$ub"; done >"$tmp/dig.direct"
for _ in $(seq 21); do dig_ms "$ub_twin"; done >"$tmp/dig.relay"
n=$(grep -c . "$tmp/dig.relay" || true)
d0=$(median <"$tmp/dig.direct")
d1=$(median <"$tmp/dig.relay")
add=$((d1 - d0))
check "dig: $n of 21 answered through the relay (10% lost: at least 12)" [ "$n" -ge 12 ]
check "dig: added RTT $add ms (median $d1 vs $d0 direct), want $lo-$hi" within "$add" "$lo" "$hi"
mn=$(sort -n "$tmp/dig.relay" | head -n1)
mx=$(sort -n "$tmp/dig.relay" | tail -n1)
# None faster than the delay allows (the jitter's floor, less the 0.2 ms a
# datagram may leave early); none slower than the jitter's ceiling plus
# what a busy machine's scheduling adds.
check "dig: every answer between $((rtt - jitter - 1)) and $((rtt + jitter + 45)) ms (min $mn, max $mx)" \
	eval 'within "$mn" $((rtt - jitter - 1)) 1000 && within "$mx" 0 $((rtt + jitter + 45))'

# --- HTTPS: curl's TLS handshake and request, direct and through the relay ---
h=mta-sts.enforce-ok.test
real=$(awk -v n="$h." '$1 == n && $4 == "A" { print $5; exit }' "$zone")
twin=$(dig @"$ub" -p "$dns_port" +short A "$h")
check "the zone served points $h at the twin of $real (got $twin)" \
	[ "$twin" = "127.10${real#127.}" ]
for _ in $(seq 7); do curl_ms "$h" "$real" "$ca"; done >"$tmp/curl.direct"
for _ in $(seq 7); do curl_ms "$h" "$twin" "$ca"; done >"$tmp/curl.relay"
curl -sS -o "$tmp/body" -m 5 --cacert "$ca" --resolve "$h:$https_port:$twin" \
	"https://$h:$https_port/.well-known/mta-sts.txt" || true
check "curl: the policy through the relay is www/$h/mta-sts.txt byte for byte" \
	cmp "$tmp/body" "$w/nginx/www/$h/mta-sts.txt"
check_added curl "$tmp/curl.direct" "$tmp/curl.relay" "$lo" "$hi"

# --- SMTP: openssl s_client -starttls smtp, direct and through the relay -----
# Timed from s_client's "CONNECTED" line (the TCP connection is made,
# before the greeting) to its "Verify return code" line (the handshake is
# done), so start-up and teardown do not count.  Through the relay that
# span holds the greeting (half a round trip: the relay accepts at once and
# the banner comes back delayed), EHLO and STARTTLS (one round trip each)
# and a full TLS 1.2 handshake (two; TLS 1.2, because TLS 1.3 session
# tickets arrive after the handshake): 4.5 round trips.
read -r mxh mxa _ < <(awk '$3 == "starttls-valid"' "$w/mx-hosts.txt" | head -n1)
stamp() { while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done; }
ossl_ms() { # ossl_ms ADDR: milliseconds from connected to verified
	{ timeout 10 stdbuf -o0 openssl s_client -starttls smtp -tls1_2 \
		-connect "$1:$smtp_port" -servername "$mxh" -CAfile "$ca" \
		-verify_hostname "$mxh" </dev/null 2>&1 || true; } | stamp |
		awk '$2 ~ /^CONNECTED/ { t0 = $1 }
			/Verify return code: 0 / && !t1 { t1 = $1 }
			END { if (t0 && t1) printf "%.1f\n", (t1 - t0) * 1000 }'
}
for _ in $(seq 5); do ossl_ms "$mxa"; done >"$tmp/ossl.direct"
for _ in $(seq 5); do ossl_ms "127.10${mxa#127.}"; done >"$tmp/ossl.relay"
check "openssl: 5 STARTTLS handshakes verified each way ($mxh)" \
	eval '[ "$(grep -c . "$tmp/ossl.direct")" -eq 5 ] && [ "$(grep -c . "$tmp/ossl.relay")" -eq 5 ]'
o0=$(median <"$tmp/ossl.direct")
o1=$(median <"$tmp/ossl.relay")
per=$(awk -v a="$o1" -v b="$o0" 'BEGIN { printf "%.1f", (a - b) / 4.5 }')
check "openssl: $o1 ms vs $o0 ms direct, over 4.5 round trips $per ms each, want $lo-$hi" \
	within "$per" "$lo" "$hi"

# --- the truth's behaviours survive the relay ----------------------------------
for d in ph-refused ph-hang ph-tls-handshake; do
	a=$(dig @"$ub" -p "$dns_port" +short A "mta-sts.$d.test")
	rc=0
	curl -s -o /dev/null -m 2 --cacert "$ca" "https://$a:$https_port/" || rc=$?
	case $d in
	ph-refused) check "$d: connection refused at the twin $a (curl exit $rc)" [ "$rc" -eq 7 ] ;;
	ph-hang) check "$d: times out at the twin $a (curl exit $rc)" [ "$rc" -eq 28 ] ;;
	ph-tls-handshake) check "$d: TLS handshake fails at the twin $a (curl exit $rc)" [ "$rc" -eq 35 ] ;;
	esac
done

# --- loss: dnsperf, a fixed number of queries, against NSD's twin ------------
queries=2000
awk '$4 == "TXT" { print $1, "TXT" }' "$zone" | sort -u | head -n 200 >"$tmp/q"
for _ in $(seq $((queries / $(grep -c . "$tmp/q")))); do cat "$tmp/q"; done >"$tmp/qs"
queries=$(grep -c . "$tmp/qs")
dnsperf -s "$nsd_twin" -p "$dns_port" -d "$tmp/qs" -n 1 -q 200 -t 1 >"$tmp/perf" 2>&1 || true
lost=$(sed -n 's/^ *Queries lost: *\([0-9]*\).*/\1/p' "$tmp/perf")
done_q=$(sed -n 's/^ *Queries completed: *\([0-9]*\).*/\1/p' "$tmp/perf")
# 10% of 2000: 200 +/- 13.4 (one sigma); 5 sigma either side.
check "dnsperf: $lost of $queries lost (${dns_loss}% configured, want 133-267), $done_q completed" \
	eval 'within "$lost" 133 267 && [ $((lost + done_q)) -eq "$queries" ]'
dnsperf -s "$nsd" -p "$dns_port" -d "$tmp/qs" -n 1 -q 200 -t 1 >"$tmp/perf0" 2>&1 || true
check "dnsperf: none lost straight to NSD (the loss is the relay's)" \
	grep -q '^ *Queries lost: *0 ' "$tmp/perf0"

# --- world-down stops the relay ---------------------------------------------------
kill -USR1 "$relay_pid" 2>/dev/null || true
sleep 0.3
grep 'stats' "$w/run/netem.out" | tail -n1
check "world-down exits 0" "$scripts/world-down" "$w"
sleep 0.2
# Gone, or a zombie nobody reaps (a container's init may not).
gone() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 0
	[ -z "$st" ] || [ "$st" = Z ] || [ "$st" = X ]
}
check "the relay (pid $relay_pid) is gone" gone "$relay_pid"
check "nothing answers on the twin resolver" \
	eval '! dig @$ub_twin -p $dns_port +time=1 +tries=1 SOA test. | grep -q "status:"'
check "no PID file left" eval '! ls "$w"/run/*.pid >/dev/null 2>&1'
finish
