#!/usr/bin/env bash
# The server behaviours of `stsmap world --behave` (docs/emulation.md,
# "Server behaviours"), each observed on the served catalog world:
#   - a scan with --probe-mx and default timeouts equals the truth;
#   - the tenant MX names resolve to the four tenant addresses and their
#     wildcard certificate verifies for each name;
#   - mx-slowgreet greets after the configured delay, a tenant at once;
#   - the IPv6 policy host and MX host answer on their addresses;
#   - Postfix's anvil refuses a client over its concurrency and rate limits
#     (421, and the warnings in run/postfix.log);
#   - nginx's limit_conn refuses slow clients holding more requests than
#     its limit ("limiting connections"), a control below it gets none;
#   - nginx's limit_req refuses a burst above its limit (503, and
#     "limiting requests" in nginx/logs/error.log) while serving the rest.
# The world runs in a network namespace of its own (ip netns), which gets
# the IPv6 addresses on its lo; the host's interfaces are not touched.
# Needs root (namespaces, Postfix).  Usage: test_behave.sh PATH/TO/stsmap
set -euo pipefail
t_start=$SECONDS

stsmap=${1:?usage: test_behave.sh STSMAP}
stsmap=$(cd "$(dirname "$stsmap")" && pwd -P)/$(basename "$stsmap")
self=$(cd "$(dirname "$0")" && pwd -P)/$(basename "$0")

here=$(dirname "$self")
# dns_port, smtp_port, https_port and the checks come from world.sh.
# shellcheck disable=SC2154
# shellcheck source=../lib/world.sh
. "$here/../lib/world.sh"
# Outside a namespace: re-run this script in one, and exit.
world_behave_netns behave "$self" "$stsmap"
world_need_tools
for t in openssl:openssl ip:iproute2; do
	command -v "${t%%:*}" >/dev/null 2>&1 || die "${t%%:*} missing (apt-get install ${t#*:})"
done
[ "$(id -u)" -eq 0 ] || die "needs root"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stsmap-behave.XXXXXX")
chmod 755 "$tmp"
w=$tmp/w
world_serve "$w" --behave
[ -f "$w/run/postfix.pid" ] || die "Postfix did not start: $(cat "$w/run/postfix.skipped" 2>/dev/null)"
read -r -a opts <<<"$(world_scan_opts "$w")"
ca=$w/tls/ca.pem
pflog=$w/run/postfix.log
nglog=$w/nginx/logs/error.log

# 1. The catalog with every behaviour on, probed: the truth.  Default
# SMTP timeout (30 s); the HTTPS one shortened for ph-hang, whose truth is
# a timeout whatever its length.
t0=$SECONDS
"$stsmap" scan --db "$tmp/s.lmdb" "${opts[@]}" --quiet --probe-mx \
	--https-timeout 4000 "$w/domains.txt" 2>"$tmp/scan.log" ||
	{ cat "$tmp/scan.log"; die "scan failed"; }
echo "# probed scan of $(wc -l <"$w/domains.txt") domains: $((SECONDS - t0)) s"
"$stsmap" export --db "$tmp/s.lmdb" >"$tmp/s.jsonl"
check "probed scan of the behaving catalog equals the truth" \
	python3 "$here/../scan/compare_truth.py" --probe "$w/truth.jsonl" "$tmp/s.jsonl"
check "the throttled hosts refused nothing during the scan" \
	sh -c "! grep -q 'limit exceeded' '$pflog' && ! grep -q 'limiting' '$nglog'"

# 2. Tenants: many names, four addresses, one wildcard certificate.
awk '$1 ~ /^t[0-9]+\.mx\.bigmail\.test$/ { print $1, $2 }' "$w/mx-hosts.txt" >"$tmp/tenants"
tenant_dns() {
	local n a bad=0
	while read -r n a; do
		[ "$(dig @127.1.0.2 -p "$dns_port" +short A "$n")" = "$a" ] || { echo "$n: not $a"; bad=1; }
	done <"$tmp/tenants"
	return $bad
}
check "$(wc -l <"$tmp/tenants") tenant MX names in the world" [ "$(wc -l <"$tmp/tenants")" -ge 25 ]
check "every tenant name resolves (Unbound) to its address" tenant_dns
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

# 4. IPv6 hosts.
check "mta-sts.behave-ipv6-policy.test has only an AAAA record" \
	[ "$(dig @127.1.0.2 -p "$dns_port" +short AAAA mta-sts.behave-ipv6-policy.test)$(dig @127.1.0.2 -p "$dns_port" +short A mta-sts.behave-ipv6-policy.test)" = fd53:7473::2:1 ]
check "the IPv6 policy host serves its policy over HTTPS" \
	sh -c "curl -sf -m 5 --cacert '$ca' --resolve 'mta-sts.behave-ipv6-policy.test:$https_port:[fd53:7473::2:1]' \
		'https://mta-sts.behave-ipv6-policy.test:$https_port/.well-known/mta-sts.txt' | grep -q '^mode: enforce'"
check "mx-v6.test answers STARTTLS on fd53:7473::3:1, its chain verifies" \
	starttls_ok mx-v6.test "[fd53:7473::3:1]"

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
check "world-down removed the IPv6 addresses from lo" \
	sh -c "! ip -6 addr show dev lo | grep -q fd53:7473"
echo "# test_behave: $((SECONDS - t_start)) s"
finish
