#!/usr/bin/env bash
# The server behaviours of `stsmap world --behave` (docs/emulation.md,
# "Server behaviours"), each observed on the served catalog world:
#   - a scan with --probe-mx and default timeouts equals the truth;
#   - the tenant MX names resolve to the four tenant addresses and their
#     wildcard certificate verifies for each name;
#   - mx-slowgreet greets after the configured delay, a tenant at once;
#   - the IPv6 policy host and MX host answer on their addresses;
#   - the relay (world-up --latency) delays the IPv6 paths too: dig over
#     IPv6 (UDP, TCP) to the resolver's IPv6 twin, curl to the IPv6 policy
#     host's twin, openssl STARTTLS to the IPv6 MX host's twin, each
#     against the server's own address;
#   - Postfix's anvil refuses a client over its concurrency and rate limits
#     (421, and the warnings in run/postfix.log);
#   - nginx's limit_conn refuses slow clients holding more requests than
#     its limit ("limiting connections"), a control below it gets none;
#   - nginx's limit_req refuses a burst above its limit (503, and
#     "limiting requests" in nginx/logs/error.log) while serving the rest.
# The world is served with --latency (RTT 40 ms) and the scan goes through
# the relay's twins, so the truth is checked on delayed paths, while the
# behaviours are observed on the servers' own addresses (no delay).
# The world runs in a network namespace of its own (ip netns), which gets
# the IPv6 addresses on its lo; the host's interfaces are not touched.
# Needs root (namespaces, Postfix).
# Usage: test_behave.sh PATH/TO/stsmap PATH/TO/nm_relay
set -euo pipefail
t_start=$SECONDS

stsmap=${1:?usage: test_behave.sh STSMAP NM_RELAY}
stsmap=$(cd "$(dirname "$stsmap")" && pwd -P)/$(basename "$stsmap")
relay=${2:?usage: test_behave.sh STSMAP NM_RELAY}
NM_RELAY=$(cd "$(dirname "$relay")" && pwd -P)/$(basename "$relay")
export NM_RELAY # world-up's relay
self=$(cd "$(dirname "$0")" && pwd -P)/$(basename "$0")

here=$(dirname "$self")
# dns_port, smtp_port, https_port and the checks come from world.sh.
# shellcheck disable=SC2154
# shellcheck source=../lib/world.sh
. "$here/../lib/world.sh"
# Outside a namespace: re-run this script in one, and exit.
world_behave_netns behave "$self" "$stsmap" "$NM_RELAY"
world_need_tools
for t in openssl:openssl ip:iproute2; do
	command -v "${t%%:*}" >/dev/null 2>&1 || die "${t%%:*} missing (apt-get install ${t#*:})"
done
[ "$(id -u)" -eq 0 ] || die "needs root"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stsmap-behave.XXXXXX")
chmod 755 "$tmp"
w=$tmp/w
rtt=40
# shellcheck disable=SC2034 # read by world_up (tests/lib/world.sh)
world_up_opts=(--latency "$rtt")
t0=$SECONDS
world_serve "$w" --behave
echo "# world-up --behave --latency $rtt: $((SECONDS - t0)) s"
[ -f "$w/run/postfix.pid" ] || die "Postfix did not start: $(cat "$w/run/postfix.skipped" 2>/dev/null)"
env_of() { sed -n "s/^$1=//p" "$w/run/netem.env"; }
twin_rv=$(env_of resolver) twin_rv6=$(env_of resolver6)
check "run/netem.env names the resolver's twins ($twin_rv, $twin_rv6)" \
	[ "$twin_rv" = "127.101.0.2:$dns_port" -a "$twin_rv6" = "[fd53:7473::101:2]:$dns_port" ]
# The scan through the twins: every path delayed, IPv6 ones included.
read -r -a opts <<<"$(world_scan_opts "$w" | sed "s/--resolver [^ ]*/--resolver $twin_rv/")"
ca=$w/tls/ca.pem
pflog=$w/run/postfix.log
nglog=$w/nginx/logs/error.log

# 1. The catalog with every behaviour on, probed through the relay: the
# truth.  Default SMTP timeout (30 s); the HTTPS one shortened for ph-hang,
# whose truth is a timeout whatever its length.
t0=$SECONDS
"$stsmap" scan --db "$tmp/s.lmdb" "${opts[@]}" --quiet --probe-mx \
	--https-timeout 4000 "$w/domains.txt" 2>"$tmp/scan.log" ||
	{ cat "$tmp/scan.log"; die "scan failed"; }
echo "# probed scan of $(wc -l <"$w/domains.txt") domains at RTT $rtt ms: $((SECONDS - t0)) s"
"$stsmap" export --db "$tmp/s.lmdb" >"$tmp/s.jsonl"
check "probed scan of the behaving catalog, every path delayed, equals the truth" \
	python3 "$here/../scan/compare_truth.py" --probe "$w/truth.jsonl" "$tmp/s.jsonl"
check "the throttled hosts refused nothing during the scan" \
	sh -c "! grep -q 'limit exceeded' '$pflog' && ! grep -q 'limiting' '$nglog'"

# 2. Tenants: many names, four addresses, one wildcard certificate.  The
# zone served gives the relay's twins (127.6 -> 127.106).
awk '$1 ~ /^t[0-9]+\.mx\.bigmail\.test$/ { print $1, $2 }' "$w/mx-hosts.txt" >"$tmp/tenants"
tenant_dns() {
	local n a bad=0
	while read -r n a; do
		[ "$(dig @127.1.0.2 -p "$dns_port" +short A "$n")" = "127.10${a#127.}" ] ||
			{ echo "$n: not the twin of $a"; bad=1; }
	done <"$tmp/tenants"
	return $bad
}
check "$(wc -l <"$tmp/tenants") tenant MX names in the world" [ "$(wc -l <"$tmp/tenants")" -ge 25 ]
check "every tenant name resolves (Unbound) to its address's twin" tenant_dns
check "the tenant names share the 4 tenant addresses" \
	[ "$(awk '{ print $2 }' "$tmp/tenants" | sort -u | tr '\n' ' ')" = "127.6.0.1 127.6.0.2 127.6.0.3 127.6.0.4 " ]
starttls_ok() { # starttls_ok HOST ADDR: the chain verifies for HOST
	timeout 20 openssl s_client -starttls smtp -connect "$2:$smtp_port" \
		-servername "$1" -CAfile "$ca" -verify_hostname "$1" </dev/null 2>&1 |
		grep -q 'Verify return code: 0 (ok)'
}
for a in 127.6.0.1 127.6.0.2 127.6.0.3 127.6.0.4; do
	n=$(awk -v a="$a" '$2 == a { print $1; exit }' "$tmp/tenants")
	check "tenant $n at $a: the wildcard certificate verifies" starttls_ok "$n" "$a"
done

# 3. The greeting delay, measured; a tenant as the control.
cat >"$tmp/smtp.py" <<'PY'
import socket, sys, time
mode, addr, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def greet(s):
    buf = b""
    while not buf.endswith(b"\n") or buf.split(b"\n")[-2][3:4] == b"-":
        c = s.recv(4096)
        if not c:
            break
        buf += c
    return buf.decode("ascii", "replace").strip().splitlines()[-1] if buf else "(closed)"
if mode == "greet":        # seconds until the last greeting line
    t = time.monotonic()
    s = socket.create_connection((addr, port), timeout=40)
    line = greet(s)
    print("%.2f %s" % (time.monotonic() - t, line))
elif mode == "hold":       # n connections at once, then every greeting
    socks = [socket.create_connection((addr, port), timeout=10) for _ in range(n)]
    time.sleep(1)
    for s in socks:
        s.settimeout(10)
        print(greet(s))
else:                      # n connections one after the other
    for _ in range(n):
        s = socket.create_connection((addr, port), timeout=10)
        line = greet(s)
        print(line)
        try:
            s.sendall(b"QUIT\r\n")
        except OSError:
            pass
        s.close()
        if line.startswith("421"):
            break
PY
read -r slow slow_line <<<"$(python3 "$tmp/smtp.py" greet 127.6.0.10 "$smtp_port" 1)"
read -r fast fast_line <<<"$(python3 "$tmp/smtp.py" greet 127.6.0.1 "$smtp_port" 1)"
echo "# greeting after ${slow}s from mx-slowgreet ($slow_line), ${fast}s from a tenant"
check "mx-slowgreet greets with 220 after 3 s or more, well within 30 s" \
	python3 -c "import sys; sys.exit(not (3.0 <= $slow < 10 and '$slow_line'.startswith('220 ')))"
check "a tenant host greets within 1 s" \
	python3 -c "import sys; sys.exit(not ($fast < 1 and '$fast_line'.startswith('220 ')))"

# 4. IPv6 hosts, on their own addresses.
check "mta-sts.behave-ipv6-policy.test has only an AAAA record, the twin of fd53:7473::2:1" \
	[ "$(dig @127.1.0.2 -p "$dns_port" +short AAAA mta-sts.behave-ipv6-policy.test)$(dig @127.1.0.2 -p "$dns_port" +short A mta-sts.behave-ipv6-policy.test)" = fd53:7473::102:1 ]
check "mx-v6.test's AAAA is the twin of fd53:7473::3:1" \
	[ "$(dig @127.1.0.2 -p "$dns_port" +short AAAA mx-v6.test)" = fd53:7473::103:1 ]
check "the IPv6 policy host serves its policy over HTTPS" \
	sh -c "curl -sf -m 5 --cacert '$ca' --resolve 'mta-sts.behave-ipv6-policy.test:$https_port:[fd53:7473::2:1]' \
		'https://mta-sts.behave-ipv6-policy.test:$https_port/.well-known/mta-sts.txt' | grep -q '^mode: enforce'"
check "mx-v6.test answers STARTTLS on fd53:7473::3:1, its chain verifies" \
	starttls_ok mx-v6.test "[fd53:7473::3:1]"

# 4b. The IPv6 paths through the relay: the added round trip, each twin
# against the server's own address (as tests/world/test_netem.sh does for
# IPv4).  Tolerance: the measurement's own spread on a busy machine.
t0=$SECONDS
lo=$((rtt - 8)) hi=$((rtt + 12))
dig_ms() { # dig_ms ADDR PORT [dig options]: one cached query's time in ms
	{ dig @"$1" -p "$2" +tries=1 +time=2 "${@:3}" SOA test. 2>/dev/null || true; } |
		sed -n 's/^;; Query time: \([0-9]*\) msec/\1/p'
}
dig_ms 127.1.0.2 "$dns_port" >/dev/null # cache it
for mode in +notcp +tcp; do
	for _ in $(seq 7); do dig_ms 127.1.0.2 "$dns_port" "$mode"; done >"$tmp/dig6.direct"
	for _ in $(seq 7); do dig_ms fd53:7473::101:2 "$dns_port" "$mode"; done >"$tmp/dig6.relay"
	d0=$(median <"$tmp/dig6.direct") d1=$(median <"$tmp/dig6.relay")
	check "dig $mode over IPv6 (fd53:7473::101:2): added $((d1 - d0)) ms (median $d1 vs $d0 direct), want $lo-$hi" \
		within "$((d1 - d0))" "$lo" "$hi"
	[ "$mode" = +tcp ] || d0udp=$d0
done
# IPv6 at both ends of a UDP map: a second relay, no delay of its own, from
# ::1 to the resolver's IPv6 twin; the answers carry the first relay's RTT.
"$NM_RELAY" --map "udp:[::1]:5399=[fd53:7473::101:2]:$dns_port" 2>"$tmp/relay2.out" &
relay2=$!
lib_pids+=("$relay2")
for _ in $(seq 50); do grep -q '^nm_relay: ready' "$tmp/relay2.out" && break; sleep 0.1; done
for _ in $(seq 5); do dig_ms ::1 5399; done >"$tmp/dig66.relay"
d1=$(median <"$tmp/dig66.relay")
check "dig over IPv6 UDP at both ends of a map ([::1]:5399 -> fd53:7473::101:2): added $((${d1:-0} - d0udp)) ms ($(grep -c . "$tmp/dig66.relay") of 5 answered), want $lo-$hi" \
	within "$((${d1:-0} - d0udp))" "$lo" "$hi"
{ kill "$relay2" && wait "$relay2"; } 2>/dev/null || true
h6=mta-sts.behave-ipv6-policy.test
for _ in $(seq 5); do curl_ms "$h6" fd53:7473::2:1 "$ca"; done >"$tmp/curl6.direct"
for _ in $(seq 5); do curl_ms "$h6" fd53:7473::102:1 "$ca"; done >"$tmp/curl6.relay"
check_added "curl to $h6's twin [fd53:7473::102:1]" "$tmp/curl6.direct" \
	"$tmp/curl6.relay" "$lo" "$hi"
# openssl from its CONNECTED line to its verify line: the greeting's half
# round trip, EHLO, STARTTLS and a TLS 1.2 handshake's two: 4.5 round
# trips (test_netem.sh explains the count).
stamp() { while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done; }
ossl_ms() { # ossl_ms ADDR: milliseconds from connected to verified
	{ timeout 10 stdbuf -o0 openssl s_client -starttls smtp -tls1_2 \
		-connect "[$1]:$smtp_port" -servername mx-v6.test -CAfile "$ca" \
		-verify_hostname mx-v6.test </dev/null 2>&1 || true; } | stamp |
		awk '$2 ~ /^CONNECTED/ { t0 = $1 }
			/Verify return code: 0 / && !t1 { t1 = $1 }
			END { if (t0 && t1) printf "%.1f\n", (t1 - t0) * 1000 }'
}
for _ in $(seq 3); do ossl_ms fd53:7473::3:1; done >"$tmp/ossl6.direct"
for _ in $(seq 3); do ossl_ms fd53:7473::103:1; done >"$tmp/ossl6.relay"
o0=$(median <"$tmp/ossl6.direct") o1=$(median <"$tmp/ossl6.relay")
per=$(awk -v a="$o1" -v b="$o0" 'BEGIN { if (a != "" && b != "") printf "%.1f", (a - b) / 4.5 }')
check "openssl STARTTLS to mx-v6's twin [fd53:7473::103:1]: $o1 ms vs $o0 ms, $per ms per round trip, want $lo-$hi" \
	within "$per" "$lo" "$hi"
echo "# IPv6 round trips through the relay measured: $((SECONDS - t0)) s"

# 5. anvil: more connections at once than the limit, then more per time
# unit than the rate; bounded counts.
python3 "$tmp/smtp.py" hold 127.6.0.2 "$smtp_port" 14 >"$tmp/hold.out" 2>&1 || true
echo "# 14 connections at once to 127.6.0.2: $(grep -c '^220 ' "$tmp/hold.out") greeted, $(grep -c '^421' "$tmp/hold.out") refused"
check "over the concurrency limit (10): 421 for the extra connections" \
	test "$(grep -c '^421' "$tmp/hold.out")" -ge 1 -a "$(grep -c '^220 ' "$tmp/hold.out")" -ge 10
sleep 1
check "the Postfix log names the concurrency limit" \
	grep -q 'Connection concurrency limit exceeded: .* for service 127.6.0.2:' "$pflog"
python3 "$tmp/smtp.py" seq 127.6.0.3 "$smtp_port" 70 >"$tmp/seq.out" 2>&1 || true
echo "# sequential connections to 127.6.0.3: $(grep -c '^220 ' "$tmp/seq.out") greeted before $(grep -c '^421' "$tmp/seq.out") refused"
check "over the rate limit (50 per 10 s): a 421" grep -q '^421' "$tmp/seq.out"
sleep 1
check "the Postfix log names the rate limit" \
	grep -q 'Connection rate limit exceeded: .* for service 127.6.0.3:' "$pflog"

# 6. nginx limit_conn: slow clients hold the provider's request slots.
# Each connection announces a body it never sends, so nginx keeps the
# answered request (discarding the body) while the connection stays open
# (tests/world/nginx_hold.py).  41 of them at one address all pass
# limit_req (the first at once, the burst of 40 waiting their turn), then
# meet limit_conn: the first N in progress are served, the rest refused,
# each refusal logged.  The control, 20 at the other address, is below
# both limits: all served, nothing logged for that host.  Before the
# limit_req burst below, whose queue at 127.6.1.2 must not be in the way.
host_at() { awk -v a="$1" '$1 ~ /^mta-sts\.behave-tenant-/ && $4 == "A" && $5 == a { sub(/\.$/, "", $1); print $1 }' "$w/dns/test.zone" | sed -n "${2}p"; }
conn_max=$(sed -n 's/^[[:space:]]*limit_conn provider_conn \([0-9]*\);/\1/p' "$w/nginx/nginx.conf" | sort -u)
check "nginx.conf sets one limit_conn for the provider ($conn_max)" \
	sh -c "[ '$(echo "$conn_max" | wc -w)' -eq 1 ] && [ '$conn_max' -ge 20 ] && [ '$conn_max' -le 40 ]"
hc=$(host_at 127.6.1.1 1) hk=$(host_at 127.6.1.2 2)
if [ -z "$hc" ] || [ -z "$hk" ]; then
	die "no tenant policy host at 127.6.1.1 or 127.6.1.2 in the zone"
fi
python3 "$here/nginx_hold.py" 127.6.1.1 "$https_port" "$hc" "$ca" 41 >"$tmp/hold-nginx.out" 2>&1 || true
n200=$(grep -c '^200$' "$tmp/hold-nginx.out" || true)
n503=$(grep -c '^503$' "$tmp/hold-nginx.out" || true)
nlog=$(grep -c "limiting connections by zone \"provider_conn\", client: 127.0.0.1, server: $hc," "$nglog" || true)
echo "# 41 held requests at once to $hc (127.6.1.1): $n200 served, $n503 refused, $nlog logged"
check "limit_conn: $conn_max held requests served, the other $((41 - conn_max)) refused with 503 ($n200, $n503)" \
	[ "$n200" -eq "$conn_max" -a "$n503" -eq $((41 - conn_max)) ]
check "nginx's error log names limit_conn for each refusal ($nlog of $n503)" [ "$nlog" -eq "$n503" ]
check "limit_req refused none of the 41 (they are within its burst)" \
	sh -c "! grep -q 'limiting requests.*server: $hc,' '$nglog'"
python3 "$here/nginx_hold.py" 127.6.1.2 "$https_port" "$hk" "$ca" 20 >"$tmp/hold-ctl.out" 2>&1 || true
check "control: 20 held requests at once to $hk (127.6.1.2), all served" \
	[ "$(grep -c '^200$' "$tmp/hold-ctl.out")" -eq 20 ]
check "control: nginx logged no limit for $hk" sh -c "! grep -q 'limiting.*server: $hk,' '$nglog'"

# 7. nginx limit_req: 100 requests at once to one provider address.
h=mta-sts.behave-tenant-01.test
a=$(awk -v h="$h." '$1 == h && $4 == "A" { print $5 }' "$w/dns/test.zone")
for _ in $(seq 100); do echo "url = \"https://$h:$https_port/.well-known/mta-sts.txt\""; echo 'output = "/dev/null"'; echo 'write-out = "%{http_code}\n"'; done >"$tmp/burst.cfg"
curl -s --no-progress-meter -Z --parallel-max 100 --cacert "$ca" \
	--resolve "$h:$https_port:$a" -K "$tmp/burst.cfg" >"$tmp/burst.out" 2>/dev/null || true
n200=$(grep -c '^200$' "$tmp/burst.out" || true)
n503=$(grep -c '^503$' "$tmp/burst.out" || true)
echo "# 100 requests at once to $h ($a): $n200 served, $n503 refused"
check "limit_req: the burst (40) and more served, the rest refused with 503" \
	test "$n200" -ge 41 -a "$n503" -ge 1 -a $((n200 + n503)) -eq 100
check "nginx's error log names limit_req's rejections" \
	grep -q 'limiting requests, excess: .* by zone "provider_req"' "$nglog"

world_stop
check "world-down removed the IPv6 addresses (the hosts' and the twins') from lo" \
	sh -c "! ip -6 addr show dev lo | grep -q fd53:7473"
echo "# test_behave: $((SECONDS - t_start)) s"
finish
