#!/usr/bin/env bash
# End-to-end test of `stsmap report`: generate the catalog world and a bulk
# world, serve each on loopback (scripts/world-up), scan it into one store,
# and check `stsmap report --format json` against
#   - the world's ground truth (truth.jsonl): verdict, per-code domain and
#     mode counts, computed independently by report_check.py;
#   - the scan's own records (`stsmap export`), recomputed in Python:
#     every headline counter, max_age buckets, TLS-RPT, TLD and MX provider
#     tables;
# then render the HTML report in headless Chromium: no console message
# (a CSP violation is one), no request made by the page (Chromium's NetLog),
# and a screenshot in OUTDIR.  Two negative controls prove the detectors
# detect: a page loading an external image must show a request, and the
# report with such an image injected must show a CSP console error and no
# request.
#
# Usage: test_report.sh PATH/TO/stsmap [OUTDIR]   (OUTDIR: default $PWD)
# Exits 77 (skipped) when nsd, unbound, nginx, the ldns tools, dig, curl or
# python3 are missing; without chromium only the HTML part is skipped.
# With CI=true each of these is a failure instead (tests/lib/skip.sh).
# Ports: STSMAP_TEST_DNS_PORT (5300), STSMAP_TEST_HTTPS_PORT (8443) and
# STSMAP_TEST_SMTP_PORT (2525, the world's Postfix); bulk size
# REPORT_BULK_DOMAINS (3000); STSMAP_TEST_KEEP=1 keeps the work directory.
# Everything stays on 127.0.0.0/8 (tests/lib/world.sh serves the worlds).
set -euo pipefail

outdir=$(cd "${2:-$PWD}" && pwd -P)
here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source=../lib/world.sh
. "$here/../lib/world.sh"
need_binary stsmap stsmap "${1:-}"
check_py=$here/report_check.py
bulk=${REPORT_BULK_DOMAINS:-3000}
# No --qps cap by default: the scan's adaptive DNS pacing and its retry
# pass keep a cold validating Unbound's drops from turning verdicts into
# "undetermined" (the truth check below would see it).  REPORT_QPS=N caps.
qps=${REPORT_QPS:-0}

world_need_tools
lib_tmpdir report
db=$tmp/store.lmdb

# serve NAME [world options]: generate world $tmp/w-NAME and serve it.
serve() {
	local name=$1
	shift
	world_serve "$tmp/w-$name" "$@"
}
unserve() { world_down "$tmp/w-$1"; }

# scan NAME LABEL [scan options]: scan world NAME into $db as a new scan.
scan() {
	local name=$1 label=$2 w=$tmp/w-$1 t0=$SECONDS rc=0
	shift 2
	"$stsmap" scan --db "$db" --new --label "$label" --quiet --qps "$qps" \
		--resolver "127.1.0.2:$dns_port" --allow-private \
		--ca-file "$w/tls/ca.pem" --https-port "$https_port" \
		--https-timeout 5000 "$@" "$w/domains.txt" \
		>"$tmp/scan-$label.log" 2>&1 || rc=$?
	check "scan '$label' exits 0 ($((SECONDS - t0)) s)" [ "$rc" -eq 0 ]
	[ "$rc" -eq 0 ] || cat "$tmp/scan-$label.log"
}

# report_checks SCAN NAME MODE: JSON report of SCAN against the truth of
# world NAME (MODE truth or truth-probe) and against the scan's records.
report_checks() {
	local scan=$1 name=$2 mode=$3 rc=0 out=$tmp/report-$1
	"$stsmap" report --db "$db" --scan "$scan" --format json \
		-o "$out.json" || rc=$?
	check "scan $scan: report --format json -o exits 0" [ "$rc" -eq 0 ]
	check "scan $scan: the JSON parses" python3 -m json.tool "$out.json" \
		/dev/null
	"$stsmap" export --db "$db" --scan "$scan" >"$out.export.jsonl"
	check "scan $scan ($name): report = ground truth ($mode)" \
		python3 "$check_py" "$mode" "$out.json" "$tmp/w-$name/truth.jsonl"
	check "scan $scan ($name): report = the scan's records" \
		python3 "$check_py" export "$out.json" "$out.export.jsonl"
}

# --- scans and JSON ----------------------------------------------------------
serve catalog
scan catalog catalog
# Probes keep the default --smtp-timeout: a freshly started Postfix can
# take several seconds to greet the first of many parallel connections.
scan catalog "catalog probes" --probe-mx --dane --smtp-port "$smtp_port"
unserve catalog
serve bulk --domains "$bulk" --seed 7
scan bulk "bulk $bulk"
unserve bulk
report_checks 1 catalog truth
report_checks 2 catalog truth-probe
report_checks 3 bulk truth

# --- the command line ----------------------------------------------------------
rc=0
"$stsmap" report --db "$db" >"$tmp/report.txt" 2>&1 || rc=$?
check "text report of the latest scan exits 0" [ "$rc" -eq 0 ]
check "text report names the latest scan and the trend" \
	eval 'grep -q "scan 3 \"bulk" "$tmp/report.txt" && grep -q "^Trend" "$tmp/report.txt"'
check "text report has no control bytes" \
	eval '! LC_ALL=C grep -q "[[:cntrl:]]" <(tr -d "\n" <"$tmp/report.txt")'
rc=0
"$stsmap" report --db "$db" --scan 99 >/dev/null 2>&1 || rc=$?
check "unknown scan: exit 1" [ "$rc" -eq 1 ]
rc=0
"$stsmap" report --db "$db" --format csv >/dev/null 2>&1 || rc=$?
check "unknown format: exit 2" [ "$rc" -eq 2 ]
rc=0
"$stsmap" report --db "$tmp/none.lmdb" >/dev/null 2>&1 || rc=$?
check "missing store: exit 1" [ "$rc" -eq 1 ]
"$stsmap" report --db "$db" --format html --output "$tmp/report.html"
check "HTML report written, one file" [ -s "$tmp/report.html" ]
check "HTML has the CSP meta" grep -q "Content-Security-Policy\" content=\"default-src 'none'" "$tmp/report.html"
check "HTML references nothing outside itself" \
	eval '! grep -Eiq "(src|href)=|url\\(|@import|<script" "$tmp/report.html"'

# --- HTML in headless Chromium -------------------------------------------------
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
	missing_part "chromium not installed (apt-get install chromium):" \
		"HTML rendering not checked"
else
	# render NAME FILE: load FILE, keep NetLog, stderr and a screenshot.
	# Chromium's own background requests go to a dead proxy (discard
	# port), so nothing leaves the machine; the NetLog still shows them,
	# and report_check.py tells them from the page's by their initiator.
	render() {
		local name=$1 file=$2 rc=0
		timeout 120 "$chromium" --headless --no-sandbox --disable-gpu \
			--no-first-run --no-default-browser-check \
			--disable-background-networking --disable-component-update \
			--disable-sync --disable-extensions --disable-default-apps \
			--proxy-server=127.0.0.1:9 \
			--user-data-dir="$tmp/chromium-$name" \
			--enable-logging=stderr --log-level=0 --v=0 \
			--log-net-log="$tmp/$name.netlog.json" \
			--window-size=1280,7200 --screenshot="$tmp/$name.png" \
			"file://$file" >"$tmp/$name.chromium.log" 2>&1 || rc=$?
		[ "$rc" -eq 0 ] && [ -s "$tmp/$name.png" ]
	}
	# Console messages of the page; Chromium's own pages (source
	# chrome://..., e.g. a "slow network" notice under load) are not ours.
	console() {
		grep -E ':CONSOLE[:(]' "$tmp/$1.chromium.log" |
			grep -v 'source: chrome://'
	}
	requests() { python3 "$check_py" netlog "$tmp/$1.netlog.json"; }

	cat >"$tmp/neg-request.html" <<-'EOF'
	<!DOCTYPE html><html><head><meta charset="utf-8"><title>control</title>
	</head><body><p>loads an external image</p>
	<img src="http://127.0.0.1:9/stsmap-control.png" alt=""></body></html>
	EOF
	sed 's|</body>|<img src="http://127.0.0.1:9/stsmap-csp.png" alt=""></body>|' \
		"$tmp/report.html" >"$tmp/neg-csp.html"

	check "control page renders" render neg-request "$tmp/neg-request.html"
	check "control: the NetLog detector sees its image request" \
		eval '! requests neg-request >"$tmp/neg-request.out" && grep -q stsmap-control.png "$tmp/neg-request.out"'
	check "control report + image renders" render neg-csp "$tmp/neg-csp.html"
	check "control: the CSP blocks the injected image (console error)" \
		eval 'console neg-csp | grep -q "Content Security Policy"'
	check "control: ... and no request left the page" requests neg-csp

	check "report renders in headless Chromium" render report "$tmp/report.html"
	if console report >"$tmp/report.console"; then
		bad "report: console messages: $(head -c 300 "$tmp/report.console")"
	else
		ok "report: no console message"
	fi
	check "report: no network request (NetLog)" requests report
	if [ -s "$tmp/report.png" ]; then
		cp "$tmp/report.png" "$outdir/report-screenshot.png"
		cp "$tmp/report.html" "$outdir/report.html"
		echo "screenshot: $outdir/report-screenshot.png (page: $outdir/report.html)"
	fi
fi

finish
