#!/usr/bin/env bash
# Differential check of the world's ground truth against an independent
# MTA-STS client: mta-sts-query, from Debian's postfix-mta-sts-resolver.
#
# Serves the catalog with scripts/world-up on the real ports (DNS 53,
# HTTPS 443: mta-sts-query has no port options), then runs mta-sts-query
# for every domain inside its own mount namespace (unshare --mount) where
# /etc/resolv.conf is a bind-mounted file naming the world's Unbound, with
# SSL_CERT_FILE set to the world's CA.  Its answer (VALID, NONE,
# FETCH_ERROR) must agree with truth.jsonl: VALID exactly where the truth
# has a usable policy (verdict none-mode, testing or enforce-*), and with
# the same mode (the truth's mode follows from its verdict), except for the
# scenarios listed below: lax, where mta-sts-query is known to accept what
# RFC 8461 rejects; strict, where it rejects what RFC 8461 accepts; and
# other_mode, where both accept but apply different modes.  A new
# disagreement, or one of those scenarios agreeing, fails the test: either
# the truth or the lists are wrong.
#
# Usage: test_world_diff.sh PATH/TO/stsmap
# Exits 77 (skipped) unless root, with mta-sts-query, unshare and the
# servers world-up needs; and when ports 53 or 443 of the world's
# addresses are taken.  SMTP port 2526, so it can run beside
# test_world.sh's Postfix (2525) but not beside its DNS and HTTPS (the
# same addresses on other ports are fine).  With CI=true a missing tool
# fails instead (tests/lib/skip.sh); the other skips stay allowed.
set -euo pipefail

stsmap=${1:?usage: test_world_diff.sh STSMAP}
PATH=$PATH:/usr/sbin:/sbin
here=$(cd "$(dirname "$0")" && pwd -P)
scripts=$(cd "$here/../../scripts" && pwd -P)
smtp_port=2526
ub=127.1.0.2

# Scenarios where mta-sts-query (1.1.2) accepts a policy RFC 8461 rejects:
# it does not check the record's id syntax nor extra fields without "="
# (§3.1), bare CR line ends, nor the syntax of mx patterns (§3.2); and of
# a repeated field it keeps the last entry (utils.parse_mta_sts_policy
# assigns res[key] = value line by line), where §3.2 says "all entries
# except for the first SHALL be ignored": a valid mode after an invalid
# one is accepted.
lax="sts-id-invalid sts-syntax policy-duplicate-first-invalid policy-bare-cr
policy-mx-bad-wildcard policy-mx-ip-literal"
# It strips every field before reading it, so trailing whitespace passes
# and "v=STSv1 ;" counts among several records (§3.1: only records
# beginning with "v=STSv1;" count there).
lax="$lax sts-trailing-space sts-discarded-ws"
# ... where it rejects what RFC 8461 accepts: an invalid max_age after a
# valid one (the last entry wins, int("1w") fails).
strict="policy-duplicate-max-age"
# It counts every record beginning "v=STSv1", so a bare "v=STSv1" or prose
# beside the valid record makes two, where §3.1 discards the one without
# "v=STSv1;".
strict="$strict sts-discarded-bare sts-discarded-prose"
# ... where both accept, with different modes: "mode: enforce" then
# "mode: testing" is enforce by §3.2, testing to mta-sts-query.
other_mode="policy-duplicate-key"

# skip, missing, in_ci: tests/lib/skip.sh
# shellcheck source=../lib/skip.sh
. "$here/../lib/skip.sh"
[ "$(id -u)" -eq 0 ] || skip "not root (ports 53 and 443, unshare --mount)"
for t in mta-sts-query:postfix-mta-sts-resolver unshare:util-linux nsd:nsd \
	unbound:unbound nginx:nginx-light ldns-signzone:ldnsutils dig:dnsutils \
	curl:curl; do
	command -v "${t%%:*}" >/dev/null 2>&1 ||
		missing "${t%%:*} not installed (apt-get install ${t#*:})"
done
unshare --mount true 2>/dev/null || skip "unshare --mount not permitted here"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/stsmap-world-diff.XXXXXX")
chmod 755 "$tmp" # Postfix's daemons must reach the world
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
	echo "test_world_diff: $*" >&2
	exit 1
}

"$stsmap" world --out "$w" --dns-port 53 --https-port 443 --smtp-port "$smtp_port" \
	>"$tmp/gen.log" 2>&1 || { cat "$tmp/gen.log" >&2; die "stsmap world failed"; }
if ! "$scripts/world-up" "$w" >"$tmp/up.log" 2>&1; then
	if grep -q 'already' "$tmp/up.log"; then
		cat "$tmp/up.log"
		skip "the world's addresses are taken on ports 53/443"
	fi
	cat "$tmp/up.log" >&2
	die "world-up failed"
fi

printf 'nameserver %s\noptions timeout:2 attempts:1\n' "$ub" >"$tmp/resolv.conf"
cat >"$tmp/query.sh" <<'EOF'
# query.sh TMP DOMAIN: "DOMAIN RESULT MODE", RESULT as mta-sts-query prints
# it, MODE the policy's mode when VALID ("-" otherwise).
out=$(timeout 60 unshare --mount sh -c '
	mount --bind "$1/resolv.conf" /etc/resolv.conf &&
	SSL_CERT_FILE="$1/w/tls/ca.pem" exec mta-sts-query "$2"' sh "$1" "$2" 2>/dev/null |
	grep '^(<STSFetchResult\.' | tail -n1)
r=$(sed -n 's/^(<STSFetchResult\.\([A-Z_]*\):.*/\1/p' <<<"$out")
m=$(sed -n "s/.*'mode': '\([^']*\)'.*/\1/p" <<<"$out")
echo "$2 ${r:-NO-ANSWER} ${m:--}"
EOF
t0=$SECONDS
xargs -P 4 -n 1 bash "$tmp/query.sh" "$tmp" <"$w/domains.txt" >"$tmp/got" 2>&1 || true
echo "mta-sts-query on $(wc -l <"$w/domains.txt") domains: $((SECONDS - t0)) s"

pass=0
fail=0
listed() { case " $(tr '\n' ' ' <<<"$1") " in *" $2 "*) return 0 ;; esac; return 1; }
while read -r d got gmode; do
	line=$(grep -F "{\"domain\":\"$d\"," "$w/truth.jsonl")
	sc=$(sed 's/.*"scenario":"\([^"]*\)".*/\1/' <<<"$line")
	v=$(sed 's/.*"verdict":"\([^"]*\)".*/\1/' <<<"$line")
	case $v in
	none-mode) want=VALID wmode=none ;;
	testing) want=VALID wmode=testing ;;
	enforce-*) want=VALID wmode=enforce ;;
	*) want=not-VALID wmode=- ;;
	esac
	is=not-VALID
	[ "$got" = VALID ] && is=VALID
	if listed "$lax" "$sc"; then
		expect="VALID where the truth rejects"
		ok=false
		[ "$is" = VALID ] && [ "$want" = not-VALID ] && ok=true
	elif listed "$strict" "$sc"; then
		expect="not VALID where the truth accepts"
		ok=false
		[ "$is" = not-VALID ] && [ "$want" = VALID ] && ok=true
	elif listed "$other_mode" "$sc"; then
		expect="VALID with a mode other than the truth's"
		ok=false
		[ "$is" = VALID ] && [ "$want" = VALID ] && [ "$gmode" != "$wmode" ] && ok=true
	else
		expect=""
		ok=false
		[ "$is" = "$want" ] && { [ "$is" != VALID ] || [ "$gmode" = "$wmode" ]; } && ok=true
	fi
	if $ok; then
		pass=$((pass + 1))
		echo "ok - $d: truth $v, mta-sts-query $got mode $gmode${expect:+ (known: $expect)}"
	else
		fail=$((fail + 1))
		echo "FAIL - $d: truth $v (mode $wmode), mta-sts-query $got mode $gmode${expect:+, listed as $expect}"
	fi
done < <(sort "$tmp/got")
n=$(wc -l <"$w/domains.txt")
if [ "$((pass + fail))" -ne "$n" ]; then
	fail=$((fail + 1))
	echo "FAIL - $n domains, $((pass + fail - 1)) answers"
fi

down=0
"$scripts/world-down" "$w" >"$tmp/down.log" 2>&1 || down=$?
if [ "$down" -eq 0 ]; then pass=$((pass + 1)); echo "ok - world-down"; else
	fail=$((fail + 1)); echo "FAIL - world-down exited $down"; fi
echo "world-diff: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
