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
# same addresses on other ports are fine).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source=../lib/world.sh
. "$here/../lib/world.sh"
need_binary stsmap stsmap "${1:-}"
# mta-sts-query has no port options: the real DNS and HTTPS ports.
dns_port=53
https_port=443
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

need_root "ports 53 and 443, unshare --mount"
world_need_tools
need_tools mta-sts-query:postfix-mta-sts-resolver unshare:util-linux
unshare --mount true 2>/dev/null || skip "unshare --mount not permitted here"

lib_tmpdir world-diff
w=$tmp/w
world_generate "$w"
if ! world_up "$w"; then
	if grep -q 'already' "$w.up.log"; then
		cat "$w.up.log"
		skip "the world's addresses are taken on ports 53/443"
	fi
	cat "$w.up.log" >&2
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
		agree=false
		[ "$is" = VALID ] && [ "$want" = not-VALID ] && agree=true
	elif listed "$strict" "$sc"; then
		expect="not VALID where the truth accepts"
		agree=false
		[ "$is" = not-VALID ] && [ "$want" = VALID ] && agree=true
	elif listed "$other_mode" "$sc"; then
		expect="VALID with a mode other than the truth's"
		agree=false
		[ "$is" = VALID ] && [ "$want" = VALID ] && [ "$gmode" != "$wmode" ] && agree=true
	else
		expect=""
		agree=false
		[ "$is" = "$want" ] && { [ "$is" != VALID ] || [ "$gmode" = "$wmode" ]; } && agree=true
	fi
	if $agree; then
		ok "$d: truth $v, mta-sts-query $got mode $gmode${expect:+ (known: $expect)}"
	else
		bad "$d: truth $v (mode $wmode), mta-sts-query $got mode $gmode${expect:+, listed as $expect}"
	fi
done < <(sort "$tmp/got")
n=$(wc -l <"$w/domains.txt")
if [ "$((pass + fail))" -ne "$n" ]; then
	bad "$n domains, $((pass + fail)) answers"
fi

down=0
"$scripts/world-down" "$w" >"$tmp/down.log" 2>&1 || down=$?
if [ "$down" -eq 0 ]; then ok "world-down"; else bad "world-down exited $down"; fi
finish
