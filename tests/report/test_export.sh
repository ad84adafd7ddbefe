#!/usr/bin/env bash
# Exports, scan comparison and shard merging, end to end against the test
# world served on loopback:
#   export  the catalog world is scanned; every JSON Lines line is valid
#           UTF-8 and JSON and validates against docs/record.schema.json;
#           the CSV, read back with Python's csv module, holds the same
#           values as the JSON Lines export; filters select what they say;
#           registry mode writes a fix for exactly the broken domains, and
#           each fix passes `stsmap lint` without an error;
#   merge   the same input scanned as 4 shards into 4 stores, merged, and
#           compared with the single scan: same domains, verdicts,
#           findings and policies, same counts of results, probes and input
#           errors; wrong shard sets are refused;
#   diff    policy files and the zone are edited in place (a body changed
#           without a new id, an id bumped with the same body, a mode
#           change, an adoption, a withdrawal, a clean removal after mode
#           none), the servers restarted, the world scanned again into the
#           same store, and `stsmap diff` must report exactly those changes
#           (plus the certificates expiring within --next days).
#
# Usage: test_export.sh PATH/TO/stsmap
# Exits 77 (skipped) when nsd, unbound, nginx, the ldns tools, dig, curl or
# python3 are missing.  Ports: STSMAP_TEST_DNS_PORT (5300) and
# STSMAP_TEST_HTTPS_PORT (8443).  No Postfix: the world's postfix/ is
# removed before world-up, which then serves everything else (as it does
# without root).  The scans probe MX hosts on STSMAP_TEST_PROBE_PORT (1),
# where nothing listens: every probe is quickly and reproducibly
# "unreachable", which is all the merge needs (and which leaves every
# enforce verdict undetermined: an MX host no probe reached is neither
# usable nor refused, so the filters below select testing domains).
# Python: only the standard library.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source=../lib/world.sh
. "$here/../lib/world.sh"
need_binary stsmap stsmap "${1:-}"
schema=$repo/docs/record.schema.json
probe_port=${STSMAP_TEST_PROBE_PORT:-1}

world_need_tools
lib_tmpdir export
w=$tmp/w

# --- the Python side: the standard library only ---------------------------
cat >"$tmp/check.py" <<'PY'
import csv, datetime, json, os, re, subprocess, sys

def load_jsonl(path):
    out = []
    with open(path, 'rb') as f:
        for n, raw in enumerate(f, 1):
            text = raw.decode('utf-8')          # strict: must be UTF-8
            if not text.endswith('\n'):
                raise SystemExit(f'{path}:{n}: line not terminated')
            out.append(json.loads(text))
    return out

# A JSON Schema subset: type, enum, pattern, minimum/maximum, minLength,
# maxLength, maxItems, properties, required, additionalProperties, items,
# local $ref.  Enough for docs/record.schema.json, no pip install.
TYPES = {'object': dict, 'array': list, 'string': str, 'boolean': bool,
         'null': type(None)}

def is_type(v, t):
    if t == 'integer':
        return isinstance(v, int) and not isinstance(v, bool)
    if t == 'number':
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    return isinstance(v, TYPES[t])

def validate(v, s, root, where, errs):
    if '$ref' in s:
        ref = s['$ref']
        assert ref.startswith('#/$defs/'), ref
        s = root['$defs'][ref[len('#/$defs/'):]]
    if 'type' in s:
        ts = s['type'] if isinstance(s['type'], list) else [s['type']]
        if not any(is_type(v, t) for t in ts):
            errs.append(f'{where}: {v!r} is not {ts}')
            return
    if 'enum' in s and v not in s['enum']:
        errs.append(f'{where}: {v!r} not in enum')
    if isinstance(v, str):
        if 'pattern' in s and not re.search(s['pattern'], v):
            errs.append(f'{where}: {v!r} does not match {s["pattern"]}')
        if len(v) < s.get('minLength', 0) or len(v) > s.get('maxLength', 1 << 60):
            errs.append(f'{where}: length {len(v)} out of range')
    if is_type(v, 'number'):
        if v < s.get('minimum', -(1 << 63)) or v > s.get('maximum', 1 << 64):
            errs.append(f'{where}: {v} out of range')
    if isinstance(v, list):
        if len(v) > s.get('maxItems', 1 << 60):
            errs.append(f'{where}: {len(v)} items')
        for i, x in enumerate(v):
            validate(x, s.get('items', {}), root, f'{where}[{i}]', errs)
    if isinstance(v, dict):
        props = s.get('properties', {})
        for k in s.get('required', []):
            if k not in v:
                errs.append(f'{where}: missing {k}')
        for k, x in v.items():
            if k in props:
                validate(x, props[k], root, f'{where}.{k}', errs)
            elif s.get('additionalProperties', True) is False:
                errs.append(f'{where}: unexpected key {k}')

def cmd_schema(schema_path, jsonl):
    root = json.load(open(schema_path))
    recs = load_jsonl(jsonl)
    errs = []
    for r in recs:
        validate(r, root, root, r.get('domain', '?'), errs)
    for e in errs[:20]:
        print(e)
    if errs or not recs:
        sys.exit(1)
    print(f'{len(recs)} records valid')

def iso(t):
    if t == 0:
        return ''
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc) \
        .strftime('%Y-%m-%dT%H:%M:%SZ')

def raw(cell):
    # undo the formula neutralisation (README: a leading quote before
    # = + - @ TAB CR)
    if len(cell) >= 2 and cell[0] == "'" and cell[1] in '=+-@\t\r':
        return cell[1:]
    return cell

def tlsrpt(j):
    if j['tlsrpt_dns'] == 'not-asked':
        return ''
    if j['tlsrpt_dns'] in ('servfail', 'refused', 'timeout', 'other'):
        return 'dns-failure'
    if j['tlsrpt_valid']:
        return 'valid'
    if any(t.lower().startswith('v=tlsrptv1') for t in j['tlsrpt_txt']):
        return 'invalid'
    return 'none'

def needs_fix(j):
    return j['verdict'] not in ('no-policy', 'undetermined') and \
        any(f['severity'] == 'error' for f in j['findings'])

def fixable(j):
    return needs_fix(j) and j['mx_total'] == len(j['mx']) and \
        any(m['host'] for m in j['mx'])

def expect_csv(j):
    host = lambda m: m['host'] or '.'
    have_policy = j['mode'] is not None or len(j['mx_patterns']) > 0
    return {
        'domain': j['domain'], 'rank': str(j['rank']),
        'verdict': j['verdict'], 'mode': j['mode'] or '',
        'max_age': '' if j['max_age'] is None else str(j['max_age']),
        'id': j['sts_id'] or '',
        'mx_covered': ' '.join(host(m) for m in j['mx'] if m['covered']),
        'mx_uncovered': ' '.join(host(m) for m in j['mx']
                                 if not m['covered']) if have_policy else '',
        'findings': ' '.join(f['code'] for f in j['findings']),
        'policy_host': j['policy_host_cname'] or
            ('' if j['fetch'] == 'not-attempted' else 'mta-sts.' + j['domain']),
        'cert_not_after': iso(j['cert_not_after']),
        'tlsrpt': tlsrpt(j),
    }

COLS = ['domain', 'rank', 'verdict', 'mode', 'max_age', 'id', 'mx_covered',
        'mx_uncovered', 'findings', 'policy_host', 'cert_not_after', 'tlsrpt',
        'fix_txt', 'fix_policy']

def check_fix(j, txt, policy, errs):
    d = j['domain']
    if not fixable(j):
        if txt or policy:
            errs.append(f'{d}: a fix where none is due')
        return
    if not re.fullmatch(r'v=STSv1; id=[0-9]{8}T[0-9]{6};', txt):
        errs.append(f'{d}: fix_txt {txt!r}')
    mx = sorted(l[4:] for l in policy.split('\n') if l.startswith('mx: '))
    want = sorted(set(m['host'] for m in j['mx'] if m['host']))
    if mx != want:
        errs.append(f'{d}: fix lists {mx}, MX is {want}')
    mode = 'enforce' if j['policy_usable'] and j['mode'] == 'enforce' \
        else 'testing'
    if f'\nmode: {mode}\n' not in policy:
        errs.append(f'{d}: fix not in mode {mode}')

def cmd_csv(csv_path, jsonl):
    recs = load_jsonl(jsonl)
    with open(csv_path, newline='', encoding='utf-8') as f:
        rows = list(csv.reader(f))
    errs = []
    if rows[0] != COLS:
        errs.append(f'header {rows[0]}')
    rows = [dict(zip(rows[0], [raw(c) for c in r])) for r in rows[1:]]
    if len(rows) != len(recs):
        errs.append(f'{len(rows)} rows, {len(recs)} records')
    fixes = 0
    for r, j in zip(rows, recs):
        for k, v in expect_csv(j).items():
            if r.get(k) != v:
                errs.append(f'{j["domain"]}: {k} = {r.get(k)!r}, JSONL says {v!r}')
        check_fix(j, r['fix_txt'], r['fix_policy'], errs)
        fixes += r['fix_txt'] != ''
    for e in errs[:20]:
        print(e)
    if errs or fixes == 0:
        sys.exit(1)
    print(f'{len(rows)} rows agree, {fixes} fixes')

def cmd_select(jsonl, key, value, n):
    recs = load_jsonl(jsonl)
    if key == 'finding':
        want = [j for j in recs if any(f['code'] == value for f in j['findings'])]
    elif key == 'verdict':
        want = [j for j in recs if j['verdict'] == value]
    else:
        want = [j for j in recs if j['domain'].rsplit('.', 1)[-1] == value]
    got = int(n)
    print(f'{key} {value}: {got} exported, {len(want)} expected')
    sys.exit(0 if got == len(want) and (got > 0 or value == 'nope') else 1)

def cmd_registry(d, jsonl, stsmap):
    recs = {j['domain']: j for j in load_jsonl(jsonl)}
    with open(os.path.join(d, 'registry.csv'), newline='', encoding='utf-8') as f:
        rows = [dict((k, raw(v)) for k, v in r.items()) for r in csv.DictReader(f)]
    errs = []
    want = sorted(n for n, j in recs.items() if needs_fix(j))
    got = [r['domain'] for r in rows]
    if got != want:
        errs.append(f'rows {got} != {want}')
    for r in rows:
        j = recs[r['domain']]
        check_fix(j, r['txt_value'], r['policy_body'], errs)
        if not os.path.isfile(os.path.join(d, r['domain'], 'README.txt')):
            errs.append(f'{r["domain"]}: no README.txt')
        if not fixable(j):
            continue
        path = os.path.join(d, r['policy_file'])
        if open(path, encoding='utf-8').read() != r['policy_body']:
            errs.append(f'{path} differs from policy_body')
        args = [stsmap, 'lint', '--domain', r['domain'], '--txt',
                r['txt_value'], '--policy', path]
        for m in j['mx']:
            args += ['--mx', m['host'] or '.']
        out = subprocess.run(args, capture_output=True, text=True).stdout
        verdict = re.search(r'^verdict +(\S+)', out, re.M).group(1)
        if verdict not in ('enforce-ok', 'testing') or \
                re.search(r'^  error ', out, re.M):
            errs.append(f'{r["domain"]}: lint of the fix says {verdict}:\n{out}')
    for e in errs[:20]:
        print(e)
    if errs or not rows:
        sys.exit(1)
    print(f'{len(rows)} domains to fix, every fix lints clean')

def norm(j):
    # what a scan decides, without times and the DNS answer order
    return (j['domain'], j['verdict'], j['sts_id'], j['mode'], j['max_age'],
            j['body_sha256'], j['fetch'], j['http_status'],
            tuple(sorted((f['code'], f['severity']) for f in j['findings'])),
            tuple(sorted((m['host'], m['pref'], m['covered']) for m in j['mx'])))

def cmd_same(a, b):
    ra, rb = load_jsonl(a), load_jsonl(b)
    na, nb = [norm(j) for j in ra], [norm(j) for j in rb]
    diff = [x for x in na if x not in nb] + [x for x in nb if x not in na]
    for x in diff[:10]:
        print('differs:', x)
    if len(na) != len(nb) or diff:
        sys.exit(1)
    print(f'{len(na)} records agree')

EXPECTED = {
    ('enforce-ok.test', 'longitudinal.body-changed-same-id'),
    ('enforce-ok-own-mx.test', 'longitudinal.id-changed-same-body'),
    ('testing-ok.test', 'longitudinal.mode-changed'),
    ('testing-ok.test', 'policy-updated'),
    ('testing-ok.test', 'verdict-changed'),
    ('no-policy-provider-mx.test', 'adopted'),
    ('enforce-ok-wildcard.test', 'longitudinal.withdrawn'),
    ('none-mode.test', 'policy-removed'),
}

def cmd_diff(diff_json, jsonl_b, days):
    d = json.load(open(diff_json))
    changes = {(c['domain'], c['change']) for c in d['changes']}
    cert = {x for x in changes if x[1] == 'cert-expiring'}
    rest = changes - cert
    want_cert = {(j['domain'], 'cert-expiring') for j in load_jsonl(jsonl_b)
                 if j['verdict'] != 'no-policy'
                 and (j['verdict'] != 'undetermined' or
                      (j['sts_dns'] == 'noerror' and j['sts_id'] is not None))
                 and j['cert_not_after'] != 0
                 and j['cert_not_after'] < j['time'] + int(days) * 86400}
    errs = []
    for x in sorted(rest - EXPECTED):
        errs.append(f'unexpected {x}')
    for x in sorted(EXPECTED - rest):
        errs.append(f'missing {x}')
    if cert != want_cert:
        errs.append(f'cert-expiring {sorted(cert)} != {sorted(want_cert)}')
    sev = {c['change']: c['severity'] for c in d['changes']}
    if sev.get('longitudinal.body-changed-same-id') != 'error':
        errs.append('body-changed-same-id is not an error')
    s = d['summary']
    if s['changes']['adopted'] != 1 or s['both'] != s['a']:
        errs.append(f'summary {s}')
    for e in errs:
        print(e)
    if errs:
        sys.exit(1)
    print(f'{len(rest)} injected changes found, {len(cert)} certificates expiring')

def cmd_nodiff(diff_json):
    d = json.load(open(diff_json))
    other = [c for c in d['changes'] if c['change'] != 'cert-expiring']
    for c in other[:10]:
        print(c)
    sys.exit(1 if other else 0)

globals()['cmd_' + sys.argv[1]](*sys.argv[2:])
PY
py() { python3 "$tmp/check.py" "$@"; }

# --- the world -------------------------------------------------------------
world_generate "$w"
rm -rf "$w/postfix" # no MX hosts needed: world-up skips Postfix
world_up_or_die "$w"
# The input: the world's domains and two lines that are not domain names
# (input errors, which every shard records and merge must keep once).
{ cat "$w/domains.txt"; echo 'bad..name'; echo '-.test'; } >"$tmp/in.txt"
scan_opts=(--resolver "127.1.0.2:$dns_port" --allow-private
	--ca-file "$w/tls/ca.pem" --https-port "$https_port" --probe-mx
	--smtp-port "$probe_port" --https-timeout 5000 --quiet)
s=$tmp/s.lmdb
# scan DB [ARGS...]: scan $tmp/in.txt into DB; its summary in DB.log.
scan() {
	local db=$1
	shift
	"$stsmap" scan --db "$db" "${scan_opts[@]}" "$@" "$tmp/in.txt" \
		>"$db.log" 2>&1 || { cat "$db.log" >&2; die "scan $db failed"; }
}
t0=$(date +%s)
scan "$s"
echo "# scan of the catalog: $(($(date +%s) - t0)) s"

# --- export ------------------------------------------------------------------
"$stsmap" export --db "$s" --scan 1 >"$tmp/a.jsonl"
"$stsmap" export --db "$s" --scan 1 --format csv --output "$tmp/a.csv"
"$stsmap" export --db "$s" --bodies >"$tmp/bodies.jsonl"
check "jsonl: $(wc -l <"$tmp/a.jsonl") lines, one per domain" \
	[ "$(wc -l <"$tmp/a.jsonl")" -eq "$(wc -l <"$w/domains.txt")" ]
check "jsonl: UTF-8, JSON, valid against docs/record.schema.json" \
	py schema "$schema" "$tmp/a.jsonl"
check "jsonl --bodies: valid against the schema too" \
	py schema "$schema" "$tmp/bodies.jsonl"
check "jsonl --bodies: every fetched policy has its body" \
	python3 -c 'import json,sys
r=[json.loads(l) for l in open(sys.argv[1])]
sys.exit(any(j["body_sha256"] and "policy_body" not in j for j in r))' \
	"$tmp/bodies.jsonl"
check "csv: parses back into the JSONL values; fixes for broken domains" \
	py csv "$tmp/a.csv" "$tmp/a.jsonl"
for f in "verdict testing" "verdict policy-invalid" \
	"finding policy-host.cert-expired" "finding consistency.mx-not-covered" \
	"tld test" "tld nope"; do
	read -r key value <<<"$f"
	n=$("$stsmap" export --db "$s" --"$key" "$value" | wc -l)
	check "filter --$key $value" py select "$tmp/a.jsonl" "$key" "$value" "$n"
done
n=$("$stsmap" export --db "$s" --format csv --verdict testing --tld test |
	python3 -c 'import csv,sys; print(len(list(csv.reader(sys.stdin))) - 1)')
check "csv filters: header and the testing rows" \
	py select "$tmp/a.jsonl" verdict testing "$n"
check "unknown finding code refused (exit 2)" \
	bash -c '"$1" export --db "$2" --finding no.such-code; [ $? -eq 2 ]' _ "$stsmap" "$s"
check "unknown format refused (exit 2)" \
	bash -c '"$1" export --db "$2" --format xml; [ $? -eq 2 ]' _ "$stsmap" "$s"
"$stsmap" export --db "$s" --registry "$tmp/reg" 2>"$tmp/reg.log"
check "registry: a row and files for exactly the broken domains; fixes lint clean" \
	py registry "$tmp/reg" "$tmp/a.jsonl" "$stsmap"

# --- merge -------------------------------------------------------------------
t0=$(date +%s)
pids=()
for i in 0 1 2 3; do
	scan "$tmp/sh$i.lmdb" --shard "$i/4" &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || die "a shard scan failed"; done
echo "# 4 shard scans in parallel: $(($(date +%s) - t0)) s"
m=$tmp/m.lmdb
check "merge of the 4 shards" \
	"$stsmap" merge "$m" "$tmp/sh3.lmdb" "$tmp/sh1.lmdb" "$tmp/sh0.lmdb" "$tmp/sh2.lmdb"
"$stsmap" merge --append "$m" "$tmp"/sh{0,1,2,3}.lmdb 2>"$tmp/merge.log"
"$stsmap" export --db "$m" --scan 1 >"$tmp/m.jsonl"
check "merged export equals the single scan's (domains, verdicts, findings)" \
	py same "$tmp/a.jsonl" "$tmp/m.jsonl"
check "merged CSV agrees with its JSONL" \
	bash -c '"$1" export --db "$2" --scan 1 --format csv >"$3/m.csv" &&
		python3 "$3/check.py" csv "$3/m.csv" "$3/m.jsonl"' _ "$stsmap" "$m" "$tmp"
# counts: "N results, P probes, E input errors" against the single scan's
# "N results ... E bad input lines" and its store's probe records
read -r nres nprobe nin < <(sed -n 's/.*: \([0-9]*\) results, \([0-9]*\) probes, \([0-9]*\) input errors.*/\1 \2 \3/p' "$tmp/merge.log")
fres=$(sed -n 's/.*finished: \([0-9]*\) results.*/\1/p' "$s.log")
fin=$(sed -n 's/.* \([0-9]*\) bad input lines.*/\1/p' "$s.log")
# the single scan's probe records, counted the same way: a scan's own
# "P MX probes" counts probes run, and with --threads a host may be
# probed once per thread (its record stored once)
"$stsmap" merge "$tmp/one.lmdb" "$s" 2>"$tmp/one.log" || die "merge of the single scan failed"
fprobe=$(sed -n 's/.*: \([0-9]*\) results, \([0-9]*\) probes.*/\2/p' "$tmp/one.log")
same_counts() {
	[ -n "$nres" ] && [ "$nres" = "$fres" ] && [ "$nprobe" = "$fprobe" ] &&
		[ "$nin" = "$fin" ] && [ "$nin" -eq 2 ] && [ "$nprobe" -gt 0 ]
}
check "merged counts = single scan's: results $nres/$fres, probes $nprobe/$fprobe, input errors $nin/$fin" \
	same_counts
check "second merge into the same OUT is scan 2, same records" \
	bash -c '"$1" export --db "$2" --scan 2 | python3 "$3/check.py" same "$3/m.jsonl" /dev/stdin' \
	_ "$stsmap" "$m" "$tmp"
check "diff of the single scan and the merged one: nothing but certificates" \
	bash -c '"$1" diff --format json --db "$2" --db-b "$3" 1 1 >"$4/dm.json" &&
		python3 "$4/check.py" nodiff "$4/dm.json"' _ "$stsmap" "$s" "$m" "$tmp"
refused() { # refused DESC ARGS...: merge must exit 1 and write no scan
	local desc=$1
	shift
	rm -f "$tmp/r.lmdb" "$tmp/r.lmdb-lock"
	check "$desc" bash -c '"$@"; rc=$?; [ $rc -eq 1 ] && [ ! -e "'"$tmp"'/r.lmdb" ]' \
		_ "$stsmap" merge "$tmp/r.lmdb" "$@"
}
refused "merge refuses a missing shard" "$tmp"/sh{0,1,2}.lmdb
refused "merge refuses the same shard twice" "$tmp"/sh{0,1,2,2}.lmdb
refused "merge refuses a shard of another partition" "$tmp"/sh{0,1,2}.lmdb "$s"
refused "merge refuses unsharded scans that overlap" "$s@1" "$m@1"
check "merge --partial takes 3 of 4 shards, left unfinished" \
	bash -c '"$1" merge --partial "$2/p.lmdb" "$2"/sh{0,1,2}.lmdb 2>&1 |
		grep -q "partial: left unfinished"' _ "$stsmap" "$tmp"

# --- diff --------------------------------------------------------------------
zone=$w/dns/test.zone
www=$w/nginx/www
sed -i 's/^max_age: 604800$/max_age: 1209600/' "$www/mta-sts.enforce-ok.test/mta-sts.txt"
sed -i 's/^mode: testing$/mode: enforce/' "$www/mta-sts.testing-ok.test/mta-sts.txt"
sed -i -e 's/^\(_mta-sts\.enforce-ok-own-mx\.test\..*id=\)[0-9a-zA-Z]*"/\1bumped1"/' \
	-e 's/^\(_mta-sts\.testing-ok\.test\..*id=\)[0-9a-zA-Z]*"/\1bumped2"/' \
	-e '/^_mta-sts\.enforce-ok-wildcard\.test\./d' \
	-e '/^_mta-sts\.none-mode\.test\./d' "$zone"
printf '_mta-sts.no-policy-provider-mx.test.\t3600\tIN\tTXT\t"v=STSv1; id=adopted1"\n' >>"$zone"
world_restart "$w"
scan "$s"
"$stsmap" export --db "$s" --scan 2 >"$tmp/b.jsonl"
check "diff (json) of scans 1 and 2 finds exactly the injected changes" \
	bash -c '"$1" diff --db "$2" --format json 1 2 >"$3/d.json" &&
		python3 "$3/check.py" diff "$3/d.json" "$3/b.jsonl" 30' _ "$stsmap" "$s" "$tmp"
check "diff without ids takes the two latest scans" \
	bash -c '"$1" diff --db "$2" --format json >"$3/d2.json" && cmp -s "$3/d.json" "$3/d2.json"' \
	_ "$stsmap" "$s" "$tmp"
check "diff --next 400: more certificates, same injected changes" \
	bash -c '"$1" diff --db "$2" --format json --next 400 1 2 >"$3/d400.json" &&
		python3 "$3/check.py" diff "$3/d400.json" "$3/b.jsonl" 400' _ "$stsmap" "$s" "$tmp"
"$stsmap" diff --db "$s" 1 2 >"$tmp/d.txt"
check "diff (text): one line per change, body-changed-same-id as error" \
	bash -c 'n=$(grep -vc "^#" "$1"); j=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))[\"changes\"]))" "$2");
		[ "$n" -eq "$j" ] && grep -q "^error longitudinal.body-changed-same-id  *enforce-ok.test " "$1"' \
	_ "$tmp/d.txt" "$tmp/d.json"

finish
