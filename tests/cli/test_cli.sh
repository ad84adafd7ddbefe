#!/usr/bin/env bash
# End-to-end tests of the stsmap command line (generate, lint, usage errors).
# Usage: test_cli.sh PATH/TO/stsmap
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source=../lib/world.sh
. "$here/../lib/world.sh"
need_binary bin stsmap "${1:-}"
lib_tmpdir cli

# expect_rc WANT CMD...: run CMD, compare its exit status.
expect_rc() {
	local want=$1; shift
	"$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ "$rc" -eq "$want" ]; then ok; else bad "$* exited $rc, want $want"; fi
}

# expect_line TEXT: the last command's stdout has a line equal to TEXT.
expect_line() {
	if grep -qxF -- "$1" "$tmp/out"; then ok; else
		bad "missing line '$1' in:"; sed 's/^/  | /' "$tmp/out"; fi
}

expect_grep() {
	if grep -qE -- "$1" "$tmp/out"; then ok; else
		bad "no match for '$1' in:"; sed 's/^/  | /' "$tmp/out"; fi
}

# --- usage ---
expect_rc 0 "$bin" --help
expect_grep '^  generate'
expect_rc 2 "$bin"
expect_rc 2 "$bin" frobnicate
expect_rc 0 "$bin" --version
expect_grep '^stsmap [0-9]+\.[0-9]+\.[0-9]+$'

# --- generate (RFC 8461 §3.1, §3.2) ---
expect_rc 0 "$bin" generate --mx MX1.Example.com. --mx '*.mail.example.net' \
	--mode enforce --max-age 86400 --now 1795587480
expect_line 'v=STSv1; id=20261125T061800;'
expect_line 'version: STSv1'
expect_line 'mode: enforce'
expect_line 'mx: mx1.example.com'
expect_line 'mx: *.mail.example.net'
expect_line 'max_age: 86400'
expect_rc 0 "$bin" generate --mode none --now 0
expect_line 'mode: none'
expect_rc 2 "$bin" generate --mode enforce
expect_rc 2 "$bin" generate --mode Enforce --mx a.example
expect_rc 2 "$bin" generate --mx a.example --max-age 31557601
expect_rc 2 "$bin" generate --mx a.example --max-age 0
expect_rc 2 "$bin" generate --mx 192.0.2.1
expect_rc 2 "$bin" generate --mx '*.*.example.com'
expect_rc 2 "$bin" generate --mx a.example stray

# --- generate | lint round trip: what generate writes, lint accepts ---
"$bin" generate --mx mx1.example.com --mx mx2.example.com --mode enforce \
	--now 1795587480 >"$tmp/gen"
txt=$(sed -n 2p "$tmp/gen")
sed -n '/^version:/,$p' "$tmp/gen" >"$tmp/policy"
expect_rc 0 "$bin" lint --domain example.com --txt "$txt" --policy "$tmp/policy" \
	--mx mx1.example.com --mx mx2.example.com --tlsrpt 'v=TLSRPTv1; rua=mailto:tls@example.com'
expect_line 'verdict   enforce-ok'
expect_line 'findings  0'

# --- lint verdicts (DESIGN §4) ---
printf 'version: STSv1\nmode: enforce\nmx: mx1.example.com\nmax_age: 604800\n' >"$tmp/enforce"
printf 'version: STSv1\nmode: Enforce\nmx: mx1.example.com\nmax_age: 604800\n' >"$tmp/badmode"
printf 'version: STSv1\r\nmode: testing\r\nmx: *.example.com\r\nmax_age: 86400\r\n' >"$tmp/testing"

expect_rc 0 "$bin" lint
expect_line 'verdict   no-policy'
expect_grep 'sts-record.none'

expect_rc 0 "$bin" lint --txt 'v=STSv1; id=1' --txt 'v=STSv1; id=2' --mx mx1.example.com
expect_line 'verdict   policy-invalid'
expect_grep 'sts-record.multiple'

expect_rc 0 "$bin" lint --txt 'v=STSv1; id=1' --policy "$tmp/enforce" \
	--mx mx1.example.com --mx mx2.example.com
expect_line 'verdict   enforce-mx-mismatch'
expect_grep 'error +consistency.mx-not-covered .*mx2.example.com'
expect_grep 'warn +tlsrpt.none'

expect_rc 0 "$bin" lint --txt 'v=STSv1; id=1' --policy "$tmp/enforce" --mx other.example.org
expect_line 'verdict   enforce-delivery-failure'
expect_grep 'consistency.no-mx-covered'

expect_rc 0 "$bin" lint --txt 'v=STSv1; id=1' --policy "$tmp/badmode" --mx mx1.example.com
expect_line 'verdict   policy-invalid'
expect_grep 'policy.mode-invalid .*case-sensitive'

expect_rc 0 "$bin" lint --txt 'v=STSv1; id=1' --policy "$tmp/testing" --mx a.example.com
expect_line 'verdict   testing'

expect_rc 0 "$bin" lint --txt 'v=STSv1; id=1' --policy "$tmp/enforce" \
	--content-type 'text/html' --mx mx1.example.com
expect_line 'verdict   policy-invalid'
expect_grep 'http.content-type'

expect_rc 0 "$bin" lint --txt 'v=STSv1; id=1' --policy "$tmp/enforce" \
	--http-status 404 --mx mx1.example.com
expect_grep 'http.not-found'

expect_rc 0 "$bin" lint --txt 'v=STSv1; id=1' --policy "$tmp/enforce" --mx .
expect_line 'verdict   enforce-delivery-failure'
expect_grep 'consistency.null-mx'

# A policy over 64 KiB is refused whole (RFC 8461 §3.3).
{ cat "$tmp/enforce"; head -c 70000 /dev/zero | tr '\0' 'x'; } >"$tmp/huge"
expect_rc 0 "$bin" lint --txt 'v=STSv1; id=1' --policy "$tmp/huge" --mx mx1.example.com
expect_grep 'http.too-large'

# Control bytes in server data never reach the terminal.
expect_rc 0 "$bin" lint --txt "$(printf 'v=STSv1; id=\033[31mX')"
if grep -q "$(printf '\033')" "$tmp/out"; then bad "escape byte in output"; else ok; fi

# --- usage errors ---
expect_rc 1 "$bin" lint --policy "$tmp/does-not-exist"
expect_rc 2 "$bin" lint --http-status 99
expect_rc 2 "$bin" lint --bogus

# --- scan, show, report, export: usage errors and an empty input (no
# network: every name below is refused before any query is sent) ---
expect_rc 2 "$bin" scan
expect_rc 2 "$bin" scan --shard 4/4 x.txt
expect_rc 2 "$bin" scan --shard 1 x.txt
expect_rc 2 "$bin" scan --format csv x.txt
expect_rc 2 "$bin" scan --inflight 0 x.txt
expect_rc 2 "$bin" check
expect_rc 2 "$bin" check 'bad..name'
expect_rc 2 "$bin" check a.example b.example
expect_rc 0 "$bin" scan --help
expect_grep '^  --shard I/N'
expect_rc 2 "$bin" scan --db "$tmp/s.lmdb" --resolver 127.0.0.1:9 "$tmp/does-not-exist"
expect_rc 1 "$bin" show --db "$tmp/none.lmdb" example.com
expect_rc 1 "$bin" report --db "$tmp/none.lmdb"
expect_rc 1 "$bin" export --db "$tmp/none.lmdb"
# A list of bad lines only: every line is an input finding, nothing is
# resolved, the scan finishes and the store has an empty scan.
printf 'bad..name\n-x.example\n\n# comment\nonelabel\n' >"$tmp/bad.txt"
expect_rc 0 "$bin" scan --db "$tmp/bad.lmdb" --resolver 127.0.0.1:9 --quiet "$tmp/bad.txt"
if grep -q ' 3 bad input lines' "$tmp/err"; then ok; else bad "bad lines not counted: $(cat "$tmp/err")"; fi
expect_rc 0 "$bin" export --db "$tmp/bad.lmdb"
if [ ! -s "$tmp/out" ]; then ok; else bad "export of an empty scan is not empty"; fi
expect_rc 1 "$bin" show --db "$tmp/bad.lmdb" example.com


# --- our own configuration: refused before any store or scan exists,
# each message naming its option (issue: local faults are not findings) ---
no_store() { if [ ! -e "$tmp/cfg.lmdb" ]; then ok; else bad "$1 created a store"; rm -rf "$tmp/cfg.lmdb"*; fi; }
expect_err() { if grep -qF -- "$1" "$tmp/err"; then ok; else bad "stderr lacks '$1':"; sed 's/^/  | /' "$tmp/err"; fi; }
printf 'a.test\n' >"$tmp/one.txt"
expect_rc 2 "$bin" scan --db "$tmp/cfg.lmdb" --ca-file "$tmp/no-such.pem" "$tmp/one.txt"
expect_err "--ca-file '$tmp/no-such.pem': No such file or directory"; no_store ca-missing
: >"$tmp/empty.pem"
expect_rc 2 "$bin" scan --db "$tmp/cfg.lmdb" --ca-file "$tmp/empty.pem" "$tmp/one.txt"
expect_err "holds no PEM certificate"; no_store ca-empty
expect_rc 2 "$bin" scan --db "$tmp/cfg.lmdb" --ca-file "$tmp" "$tmp/one.txt"
expect_err "is a directory"; no_store ca-dir
expect_rc 2 "$bin" check --ca-file "$tmp/empty.pem" a.test
expect_err "stsmap check: --ca-file"
expect_rc 2 "$bin" scan --db "$tmp/cfg.lmdb" --resolver 1.2.3 "$tmp/one.txt"
expect_err "--resolver '1.2.3': not an address"; no_store resolver
expect_rc 2 "$bin" scan --db "$tmp/cfg.lmdb" --resolver 127.0.0.1:99999 "$tmp/one.txt"
no_store resolver-port
# Header injection: a CR or LF in a header value is refused, and echoed
# escaped, never raw.
expect_rc 2 "$bin" scan --db "$tmp/cfg.lmdb" --user-agent "$(printf 'x\r\nX-Injected: 1')" "$tmp/one.txt"
expect_err "--user-agent 'x\\x0d\\x0aX-Injected: 1': contains CR or LF"; no_store user-agent
expect_rc 2 "$bin" scan --db "$tmp/cfg.lmdb" --contact "$(printf 'https://x\nX-Injected: 1')" "$tmp/one.txt"
expect_err "--contact"; no_store contact
expect_rc 2 "$bin" check --user-agent "$(printf 'a\rb')" a.test
# An invalid --ehlo says --ehlo, not --resolver.
expect_rc 2 "$bin" scan --db "$tmp/cfg.lmdb" --ehlo 'two words' "$tmp/one.txt"
expect_err "--ehlo 'two words': must be a domain"
if grep -q resolver "$tmp/err"; then bad "--ehlo error mentions --resolver"; else ok; fi
no_store ehlo

# --- usage errors exit 2 in every command; help CMD ---
for cmd in scan check show export diff merge report lint generate world; do
	expect_rc 2 "$bin" "$cmd" --no-such-option
	expect_rc 0 "$bin" help "$cmd"
	expect_grep "^usage: stsmap $cmd"
done
expect_rc 2 "$bin" help no-such-command

# One row per subcommand: the shared end of every parser (sc_cli.c).  An
# unknown option and a missing argument are named by getopt, then the
# usage follows; an operand too many is named or answered with the usage.
# cmd|option that takes an argument|operands too many|stderr for those
inputs=$(for i in $(seq 65); do printf '%s ' "$tmp/in$i"; done)
while IFS='|' read -r cmd argopt extra want; do
	[ -n "$cmd" ] || continue
	expect_rc 2 "$bin" "$cmd" --no-such-option
	expect_err "unrecognized option '--no-such-option'"
	expect_err "usage: stsmap $cmd"
	expect_rc 2 "$bin" "$cmd" "$argopt"
	expect_err "option '$argopt' requires an argument"
	expect_err "usage: stsmap $cmd"
	expect_rc 0 "$bin" "$cmd" --help
	expect_grep "^usage: stsmap $cmd"
	if [ -s "$tmp/err" ]; then bad "$cmd --help wrote to stderr"; else ok; fi
	# shellcheck disable=SC2086
	expect_rc 2 "$bin" "$cmd" $extra
	expect_err "$want"
done <<ROWS
scan|--db|--db $tmp/x.lmdb $inputs|stsmap: at most 64 inputs
check|--resolver|a.example b.example|stsmap check: give one domain name
show|--db|a.example b.example|usage: stsmap show
export|--db|extra|usage: stsmap export
diff|--db|1 2 3|usage: stsmap diff
merge|--label|$tmp/out.lmdb|usage: stsmap merge
report|--db|extra|usage: stsmap report
lint|--txt|extra|stsmap lint: unexpected argument 'extra'
generate|--mx|--mx a.example stray|stsmap generate: unexpected argument 'stray'
world|--out|--out $tmp/w extra|stsmap world: unexpected argument 'extra'
ROWS
expect_rc 2 "$bin" diff 1
expect_err "usage: stsmap diff"
expect_rc 2 "$bin" show --input-errors a.example
expect_err "usage: stsmap show"
expect_rc 2 "$bin" world extra
expect_err "stsmap world: --out DIR is required"
expect_rc 2 "$bin" scan --quiet
expect_err "stsmap scan: no input given (see --help)"

# Options of scan and check: the help says each default and range, and a
# value outside the range is refused naming the option and the range
# (the rows of scanner/sc_scan_opts.c; tests/scanner/test_sc_scan_opts
# checks every row).
expect_rc 0 "$bin" scan --help
expect_grep '^  --https-timeout MS +whole policy fetch \(default 30000 ms, 10 to 600000\)$'
expect_grep '^  --inflight N +domains in flight \(default 500, 1 to 1000000\)$'
expect_grep '^  --db FILE +result store \(default stsmap.lmdb\)$'
expect_rc 0 "$bin" check --help
expect_grep '^  --dns-timeout MS +first DNS attempt, doubled per retry \(default 2000 ms, 10 to 600000\)$'
if grep -q -- '--batch' "$tmp/out"; then bad "check --help lists --batch"; else ok; fi
expect_rc 2 "$bin" scan --db "$tmp/cfg.lmdb" --https-timeout 9 "$tmp/one.txt"
expect_err "stsmap: --https-timeout must be a number from 10 to 600000"; no_store https-timeout
expect_rc 2 "$bin" scan --db "$tmp/cfg.lmdb" --smtp-port 65536 "$tmp/one.txt"
expect_err "stsmap: --smtp-port must be a number from 1 to 65535"; no_store smtp-port
expect_rc 2 "$bin" check --dns-retries 11 a.test
expect_err "stsmap: --dns-retries must be a number from 0 to 10"
expect_rc 2 "$bin" check --qps x a.test
expect_err "stsmap: --qps must be a number from 0 to 10000000"
expect_rc 2 "$bin" generate --mx 'not a host'
expect_rc 2 "$bin" world --out "$tmp/w" --tld 'Not A Label'
expect_rc 2 "$bin" export --db "$tmp/none.lmdb" --tld a.b

# --- output: every write checked, the output named, a closed pipe quiet ---
expect_rc 1 sh -c "'$bin' generate --mx mx.example.com >/dev/full"
expect_err "stsmap generate: writing standard output: No space left on device"
expect_rc 1 sh -c "'$bin' lint --domain example.com --txt 'v=STSv1; id=1' >/dev/full"
expect_err "stsmap lint: writing standard output"
expect_rc 1 sh -c "'$bin' --help >/dev/null; '$bin' help scan >/dev/full"
# A reader that has gone away (the pipe's read end closed before stsmap
# writes): killed by SIGPIPE like any filter, no message.
sigpipe() {
	python3 -c 'import os, subprocess, sys
r, w = os.pipe(); os.close(r)
p = subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.PIPE)
print(p.returncode, len(p.stderr))' "$@"
}
for args in "generate --mx mx.example.com" "help scan" "lint --txt v=STSv1;id=1"; do
	# shellcheck disable=SC2086
	got=$(sigpipe "$bin" $args)
	# scan and check ignore SIGPIPE (peers) and exit 141 themselves.
	case $got in "-13 0" | "141 0") ok ;; *) bad "$args into a closed pipe: status and stderr bytes $got, want SIGPIPE (or 141) and none" ;; esac
done


# --- a store with records, from a scan of a stub DNS server that says
# NXDOMAIN to every name (tests/cli/dns_stub.py; loopback only) ---
stub=127.0.9.53
stub_port=${STSMAP_TEST_STUB_PORT:-5391}
spawn python3 "$here/dns_stub.py" "$stub" "$stub_port" 120
wait_dns "$stub" "$stub_port" || die "the stub DNS server on $stub:$stub_port did not start"
printf 'a.test\nb.example\nc.TEST\nd.t\xc3\xa9st\n' >"$tmp/four.txt"
expect_rc 0 "$bin" scan --db "$tmp/r.lmdb" --resolver "$stub:$stub_port" --quiet "$tmp/four.txt"
expect_rc 0 "$bin" scan --db "$tmp/r.lmdb" --resolver "$stub:$stub_port" --quiet --new "$tmp/four.txt"
# export --tld is normalised as input names are: case, dots, U-labels.
for t in test TEST .test test.; do
	expect_rc 0 "$bin" export --db "$tmp/r.lmdb" --tld "$t"
	n=$(wc -l <"$tmp/out")
	if [ "$n" -eq 2 ]; then ok; else bad "export --tld $t: $n rows, want 2"; fi
done
for t in "t$(printf '\xc3\xa9')st" xn--tst-bma; do
	expect_rc 0 "$bin" export --db "$tmp/r.lmdb" --tld "$t"
	n=$(wc -l <"$tmp/out")
	if [ "$n" -eq 1 ]; then ok; else bad "export --tld $t: $n rows, want 1"; fi
done
# Every read command: a full disk is named, exit 1, never "STORE".
for args in "show --db $tmp/r.lmdb a.test" "report --db $tmp/r.lmdb" \
	    "report --db $tmp/r.lmdb --format html" "export --db $tmp/r.lmdb" \
	    "export --db $tmp/r.lmdb --format csv" "diff --db $tmp/r.lmdb"; do
	# shellcheck disable=SC2086
	expect_rc 1 sh -c "'$bin' $args >/dev/full"
	expect_err "writing standard output: No space left on device"
	if grep -qi 'store\|input/output' "$tmp/err"; then bad "$args: $(cat "$tmp/err")"; else ok; fi
	# shellcheck disable=SC2086
	got=$(sigpipe "$bin" $args)
	case $got in "-13 0") ok ;; *) bad "$args into a closed pipe: $got" ;; esac
done
for c in export report diff; do
	expect_rc 1 "$bin" "$c" --db "$tmp/r.lmdb" --output "$tmp/no/such/dir/x"
	expect_err "stsmap $c: cannot create $tmp/no/such/dir/x: No such file or directory"
	expect_rc 1 "$bin" "$c" --db "$tmp/r.lmdb" --output /dev/full
	expect_err "stsmap $c: writing /dev/full: No space left on device"
done

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
