#!/usr/bin/env python3
"""Compare a scan's JSON Lines export with the world's ground truth.

usage: compare_truth.py TRUTH.jsonl EXPORT.jsonl [--probe] [--subset]

Every truth domain must be in the export (unless --subset: then only the
exported ones that the truth knows are checked) with the same sender verdict, the same set of
error and warn finding codes and the same info codes.  With --probe the
*_probe variants of the truth apply.  Where the truth has mx_covered, the
export's mx[] entries marked covered must be exactly those hosts (compared
without a trailing dot, case-insensitively).  Prints one line per mismatch
and a tally; exits 1 on any mismatch.
"""
import json
import sys


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    probe = "--probe" in sys.argv
    subset = "--subset" in sys.argv
    truth = {}
    with open(args[0], encoding="utf-8") as f:
        for line in f:
            t = json.loads(line)
            truth[t["domain"]] = t
    got = {}
    with open(args[1], encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            r = json.loads(line)
            if r["domain"] in got:
                print(f"duplicate record for {r['domain']} (line {n})")
                return 1
            got[r["domain"]] = r
    bad = 0
    checked = 0
    for d, t in sorted(truth.items()):
        r = got.get(d)
        if r is None:
            if not subset:
                print(f"{d}: missing from the export")
                bad += 1
            continue
        checked += 1
        want_v = t.get("verdict_probe") if probe else None
        want_v = want_v or t["verdict"]
        want_f = set(t["findings_probe"] if probe else t["findings"])
        want_i = set(t.get("info") or [])
        have_f = {f["code"] for f in r["findings"] if f["severity"] != "info"}
        have_i = {f["code"] for f in r["findings"] if f["severity"] == "info"}
        problems = []
        if r["verdict"] != want_v:
            problems.append(f"verdict {r['verdict']}, truth {want_v}")
        if have_f != want_f:
            problems.append(f"findings +{sorted(have_f - want_f)} "
                            f"-{sorted(want_f - have_f)}")
        if not probe and have_i != want_i:
            problems.append(f"info +{sorted(have_i - want_i)} "
                            f"-{sorted(want_i - have_i)}")
        if "mx_covered" in t:
            want_c = {h.rstrip(".").lower() for h in t["mx_covered"]}
            have_c = {m["host"].rstrip(".").lower() for m in r["mx"]
                      if m["covered"]}
            if have_c != want_c:
                problems.append(f"covered +{sorted(have_c - want_c)} "
                                f"-{sorted(want_c - have_c)}")
        if problems:
            bad += 1
            print(f"{d} ({t.get('scenario', '?')}): " + "; ".join(problems))
    extra = set() if subset else set(got) - set(truth)
    for d in sorted(extra):
        print(f"{d}: in the export but not in the truth")
    bad += len(extra)
    print(f"compared {checked} domains: {bad} mismatches")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
