#!/usr/bin/env python3
"""Checks for tests/report/test_report.sh, independent of the C code.

  report_check.py truth REPORT.json TRUTH.jsonl
      verdict, per-code domain and mode counts of `stsmap report --format
      json` against the world's ground truth (truth "findings" are the
      error and warn codes, "info" the info codes).
  report_check.py truth-probe REPORT.json TRUTH.jsonl
      the same for a scan with --probe-mx --dane (the *_probe fields), and
      the domains with TLSA on some MX host (truth: mx-tls.dane).
  report_check.py export REPORT.json EXPORT.jsonl
      every headline counter, the max_age buckets, TLS-RPT, rank tiers and
      the TLD / MX provider tables recomputed from `stsmap export` (the
      definitions of the README's "Reports" section, written again here).
  report_check.py netlog NETLOG.json
      requests a page made, from a Chromium NetLog (--log-net-log): every
      URL request whose initiator is an origin (the browser's own
      background requests have "not an origin") and every event keyed to
      the file:// site.  Prints them; exit 1 if there is any.

Exit 0 when everything agrees, 1 with one line per mismatch otherwise.
"""
import collections
import json
import sys

USABLE = {"none-mode", "testing", "enforce-ok", "enforce-mx-mismatch",
          "enforce-delivery-failure"}
AGE_EDGES = [(0, "lt-1d"), (86400, "1d-1w"), (7 * 86400, "1w-2w"),
             (14 * 86400, "2w-30d"), (30 * 86400, "30d-1y"),
             (365 * 86400, "ge-1y")]
TIERS = [("top-1k", 1000), ("top-10k", 10000), ("top-100k", 100000),
         ("top-1m", 1000000)]

bad = 0


def chk(what, got, want):
    global bad
    if got != want:
        bad += 1
        print("MISMATCH %s: report %r, expected %r" % (what, got, want))


def load_report(path):
    with open(path) as f:
        return json.load(f)


def truth_mode(v, findings):
    if v == "none-mode":
        return "none"
    if v == "testing":
        return "testing"
    if v.startswith("enforce-"):
        return "enforce"
    if v == "undetermined" and ("consistency.mx-dns-failure" in findings or
                                "mx-tls.unreachable" in findings):
        # usable enforce policy, MX lookup failed or an MX host unreached
        return "enforce"
    return None


def check_truth(rep_path, truth_path, probe=False):
    r = load_report(rep_path)
    sfx = "_probe" if probe else ""
    verdicts, codes, modes = collections.Counter(), collections.Counter(), \
        collections.Counter()
    n = dane = 0
    with open(truth_path) as f:
        for line in f:
            d = json.loads(line)
            n += 1
            v, fi = d["verdict" + sfx], d["findings" + sfx]
            info = d["info" + sfx]
            verdicts[v] += 1
            for c in set(fi) | set(info):
                codes[c] += 1
            m = truth_mode(v, fi)
            if m:
                modes[m] += 1
            dane += "mx-tls.dane" in info
    chk("domains", r["domains"], n)
    for v in set(r["verdicts"]) | set(verdicts):
        chk("verdict " + v, r["verdicts"].get(v, 0), verdicts.get(v, 0))
    got = {f["code"]: f["domains"] for f in r["findings"]}
    for c in set(got) | set(codes):
        chk("finding " + c, got.get(c, 0), codes.get(c, 0))
    for m in set(r["modes"]) | set(modes):
        chk("mode " + m, r["modes"].get(m, 0), modes.get(m, 0))
    if probe:
        chk("dane present", r["dane"] is not None, True)
        if r["dane"] is not None:
            chk("dane tlsa_any", r["dane"]["tlsa_any"], dane)
    print("truth%s: %d domains, %d verdicts, %d codes, %d modes compared%s"
          % (sfx, n, len(verdicts), len(set(got) | set(codes)),
             len(r["modes"]), ", %d DANE domains" % dane if probe else ""))


def provider(host):
    # The test TLD is not in the public suffix list: the last two labels.
    host = host.rstrip(".").lower()
    return ".".join(host.split(".")[-2:])


def recompute(export_path):
    c = collections.Counter()
    verdicts, modes, ages = collections.Counter(), collections.Counter(), \
        collections.Counter()
    codes, codes_sts = collections.Counter(), collections.Counter()
    tiers = {t: collections.Counter() for t, _ in TIERS}
    tables = {"tld": collections.Counter(), "mx_provider":
              collections.Counter()}
    with open(export_path) as f:
        for line in f:
            d = json.loads(line)
            v = d["verdict"]
            sts = d["sts_dns"] == "noerror" and v != "no-policy"
            usable = v in USABLE or (
                v == "undetermined" and d["sts_dns"] == "noerror" and
                d["sts_id"] is not None and d["policy_usable"] and
                d["mode"] == "enforce")
            c["domains"] += 1
            c["sts_record"] += sts
            c["sts_valid"] += d["sts_id"] is not None
            c["policy_usable"] += usable
            verdicts[v] += 1
            if usable:
                modes[d["mode"]] += 1
                if d["max_age"] is None:
                    ages["missing"] += 1
                else:
                    ages[[n for e, n in AGE_EDGES if d["max_age"] >= e][-1]] += 1
            for code in {x["code"] for x in d["findings"]}:
                codes[code] += 1
                codes_sts[code] += sts
            sev = {x["severity"] for x in d["findings"]}
            c["with_error"] += "error" in sev
            c["with_warn"] += "warn" in sev and "error" not in sev
            if d["tlsrpt_valid"]:
                c["tlsrpt"] += 1
                c["tlsrpt_with_sts" if sts else "tlsrpt_without_sts"] += 1
            for name, top in TIERS:
                if 0 < d["rank"] <= top:
                    t = tiers[name]
                    t["domains"] += 1
                    t["sts_record"] += sts
                    t["policy_usable"] += usable
                    t["enforce"] += usable and d["mode"] == "enforce"
                    t["tlsrpt"] += d["tlsrpt_valid"]
            c["ranked"] += d["rank"] > 0
            tables["tld"][d["domain"].rsplit(".", 1)[-1]] += 1
            for p in {provider(m["host"]) for m in d["mx"] if m["host"]}:
                tables["mx_provider"][p] += 1
    return c, verdicts, modes, ages, codes, codes_sts, tiers, tables


def check_export(rep_path, export_path):
    r = load_report(rep_path)
    c, verdicts, modes, ages, codes, codes_sts, tiers, tables = \
        recompute(export_path)
    for k in ("domains", "sts_record", "sts_valid", "policy_usable",
              "with_error", "with_warn", "ranked"):
        chk(k, r[k], c[k])
    for v in r["verdicts"]:
        chk("verdict " + v, r["verdicts"][v], verdicts.get(v, 0))
    for m in r["modes"]:
        chk("mode " + m, r["modes"][m], modes.get(m, 0))
    for b in r["max_age"]:
        chk("max_age " + b, r["max_age"][b], ages.get(b, 0))
    for f in r["findings"]:
        chk("finding " + f["code"], f["domains"], codes.get(f["code"], 0))
        chk("finding sts " + f["code"], f["sts_domains"],
            codes_sts.get(f["code"], 0))
    chk("unknown codes", set(codes) - {f["code"] for f in r["findings"]},
        set())
    chk("tlsrpt", r["tlsrpt"], {"valid": c["tlsrpt"],
                                "with_sts": c["tlsrpt_with_sts"],
                                "without_sts": c["tlsrpt_without_sts"]})
    got_tiers = {t["tier"]: t for t in r["rank_tiers"]}
    for name, _ in TIERS:
        if c["ranked"] == 0:
            break
        for k in ("domains", "sts_record", "policy_usable", "enforce",
                  "tlsrpt"):
            chk("tier %s %s" % (name, k), got_tiers[name][k],
                tiers[name][k])
    for t, want in tables.items():
        tab = r["by_" + t]
        chk("table %s total" % t, tab["total"]["domains"],
            sum(want.values()))
        chk("table %s rows+other" % t, sum(x["domains"] for x in tab["rows"])
            + tab["other"]["domains"], sum(want.values()))
        if tab["pruned"] == 0:
            for row in tab["rows"]:
                chk("table %s %s" % (t, row["key"]), row["domains"],
                    want.get(row["key"], 0))
            top = sorted(want.items(), key=lambda kv: (-kv[1], kv[0]))
            chk("table %s order" % t, [x["key"] for x in tab["rows"]],
                [k for k, _ in top[:len(tab["rows"])]])
    print("export: %d domains, %d codes, %d TLDs, %d MX providers compared"
          % (c["domains"], len(codes), len(tables["tld"]),
             len(tables["mx_provider"])))


def check_netlog(path):
    global bad
    with open(path) as f:
        d = json.load(f)
    names = {v: k for k, v in d["constants"]["logEventTypes"].items()}
    seen = set()
    for e in d.get("events", []):
        t = names.get(e["type"], str(e["type"]))
        p = e.get("params") or {}
        page = False
        if t == "URL_REQUEST_START_JOB" and "url" in p:
            page = p.get("initiator", "not an origin") != "not an origin"
        for k in ("network_isolation_key", "network_anonymization_key"):
            if "file://" in str(p.get(k, "")):
                page = True
        if page:
            what = "%s %s" % (t, p.get("url") or p.get("host") or
                              json.dumps(p)[:200])
            if what not in seen:
                seen.add(what)
                print("REQUEST " + what)
    bad += len(seen)
    print("netlog: %d page-initiated network events" % len(seen))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "truth":
        check_truth(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "truth-probe":
        check_truth(sys.argv[2], sys.argv[3], probe=True)
    elif len(sys.argv) == 4 and sys.argv[1] == "export":
        check_export(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "netlog":
        check_netlog(sys.argv[2])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
