#!/usr/bin/env python3
"""Checks for tests/report/test_groups.sh, independent of the C code.

  groups_check.py report REPORT.json TRUTH.jsonl
      the "by_group" table of `stsmap report --groups --format json`
      against the world's ground truth (each truth line names its group):
      per group, domains, verdict counts (enforce-ok and policy-invalid
      among them), and for each listed top finding the number of the
      group's domains whose truth has that code; top findings in
      non-increasing order; the rows add up to the scan.
  groups_check.py export DIR REGISTRY.csv TRUTH.jsonl
      `export --registry DIR --by-group`: DIR/groups.csv lists each
      group once with its folder and count; each FOLDER/registry.csv holds
      exactly the domains of the plain registry export (REGISTRY.csv)
      that the truth puts in that group; every folder has a README.txt.

Exit 0 when everything agrees, 1 with one line per mismatch otherwise.
"""
import collections
import csv
import json
import os
import sys

bad = 0


def chk(what, got, want):
    global bad
    if got != want:
        bad += 1
        print("MISMATCH %s: got %r, expected %r" % (what, got, want))


def load_truth(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def check_report(report_path, truth_path):
    with open(report_path, encoding="utf-8") as f:
        rep = json.load(f)
    truth = load_truth(truth_path)
    by = collections.defaultdict(list)
    for t in truth:
        by[t["group"]].append(t)
    table = rep.get("by_group")
    if table is None:
        chk("by_group present", False, True)
        return
    chk("group count", table["keys"], len(by))
    chk("no group pruned", table["pruned"], 0)
    chk("rows listed", len(table["rows"]), len(by))
    chk("total domains", table["total"]["domains"], len(truth))
    for row in table["rows"]:
        g = row["key"]
        doms = by.get(g, [])
        chk("group %r domains" % g, row["domains"], len(doms))
        want = collections.Counter(t["verdict"] for t in doms)
        for v, n in row["verdicts"].items():
            chk("group %r verdict %s" % (g, v), n, want.get(v, 0))
        last = None
        for tf in row["top_findings"]:
            n = sum(1 for t in doms if tf["code"] in t["findings"])
            chk("group %r finding %s" % (g, tf["code"]), tf["domains"], n)
            if last is not None and tf["domains"] > last:
                chk("group %r top findings in order" % g, False, True)
            last = tf["domains"]
        if any(t["findings"] for t in doms if t["verdict"] != "no-policy"):
            chk("group %r has top findings" % g,
                len(row["top_findings"]) > 0, True)


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def check_export(out_dir, registry_csv, truth_path):
    truth = {t["domain"]: t["group"] for t in load_truth(truth_path)}
    plain = {r["domain"] for r in read_csv(registry_csv)}
    want = collections.defaultdict(set)
    for d in plain:
        want[truth[d]].add(d)
    index = read_csv(os.path.join(out_dir, "groups.csv"))
    chk("groups.csv groups", sorted(r["group"] for r in index),
        sorted(want))
    seen = set()
    for r in index:
        g, folder = r["group"], r["folder"]
        chk("group %r listed once" % g, g in seen, False)
        seen.add(g)
        path = os.path.join(out_dir, folder, "registry.csv")
        got = {x["domain"] for x in read_csv(path)}
        chk("group %r domains" % g, sorted(got), sorted(want.get(g, ())))
        chk("group %r count" % g, int(r["domains"]), len(got))
        chk("group %r README" % g,
            os.path.isfile(os.path.join(out_dir, folder, "README.txt")),
            True)
        for d in got:
            chk("%s fix file" % d, os.path.isfile(
                os.path.join(out_dir, folder, d, "README.txt")), True)


def main(argv):
    if len(argv) == 4 and argv[1] == "report":
        check_report(argv[2], argv[3])
    elif len(argv) == 5 and argv[1] == "export":
        check_export(argv[2], argv[3], argv[4])
    else:
        print(__doc__)
        return 2
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
