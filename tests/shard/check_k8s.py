#!/usr/bin/env python3
"""Check scripts/shard-k8s.yaml as far as is possible without a cluster.

usage: check_k8s.py MANIFEST [SCAN_SCRIPT_OUT MERGE_SCRIPT_OUT]

Parses the manifest (PyYAML) and checks the fields the recipe relies on
(README, "Many machines"): the scan Job is an Indexed Job (completionMode
Indexed, so each pod has JOB_COMPLETION_INDEX 0..completions-1) with
completions = parallelism = the SHARDS both Jobs use; its pods restart in
place (restartPolicy OnFailure, so the emptyDir scratch and the partial
store survive a container restart); the command scans --shard
"$JOB_COMPLETION_INDEX/$SHARDS" into the scratch volume and publishes the
finished store to the results volume under the name the merge waits for;
the volumes are mounted where the commands use them (the input read-only,
scratch an emptyDir, results a claim shared by both Jobs).  Prints one line
per check; exits 1 if any fails.  With the two extra arguments, writes the
scan and merge containers' shell scripts there (the caller runs them with
sh -n and with stub commands).
"""
import sys

import yaml

failed = 0


def check(desc, cond):
    global failed
    print(("ok - " if cond else "FAIL - ") + desc)
    if not cond:
        failed += 1


def env_of(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def mounts_of(container):
    return {m["name"]: m for m in container.get("volumeMounts", [])}


def volumes_of(pod):
    return {v["name"]: v for v in pod.get("volumes", [])}


def main():
    docs = [d for d in yaml.safe_load_all(open(sys.argv[1], encoding="utf-8"))
            if d is not None]
    jobs = {d["metadata"]["name"]: d for d in docs
            if d.get("apiVersion") == "batch/v1" and d.get("kind") == "Job"}
    check("two batch/v1 Jobs, stsmap-scan and stsmap-merge "
          f"(found {sorted(jobs)})",
          len(docs) == 2 and set(jobs) == {"stsmap-scan", "stsmap-merge"})
    if set(jobs) != {"stsmap-scan", "stsmap-merge"}:
        return 1
    scan, merge = jobs["stsmap-scan"]["spec"], jobs["stsmap-merge"]["spec"]

    # The scan Job.
    check("scan: completionMode Indexed (JOB_COMPLETION_INDEX per pod)",
          scan.get("completionMode") == "Indexed")
    n = scan.get("completions")
    check(f"scan: completions ({n}) is a positive integer",
          isinstance(n, int) and n > 0)
    check(f"scan: parallelism ({scan.get('parallelism')}) = completions",
          scan.get("parallelism") == n)
    check("scan: a backoffLimit leaves room for restarts",
          isinstance(scan.get("backoffLimit"), int) and scan["backoffLimit"] >= 1)
    pod = scan["template"]["spec"]
    check("scan: restartPolicy OnFailure (a restarted container keeps its "
          "emptyDir and resumes)", pod.get("restartPolicy") == "OnFailure")
    check("scan: one container", len(pod.get("containers", [])) == 1)
    c = pod["containers"][0]
    env = env_of(c)
    check(f"scan: SHARDS ({env.get('SHARDS')}) = completions ({n})",
          env.get("SHARDS") == str(n))
    check("scan: STSMAP_ARGS set", bool(env.get("STSMAP_ARGS")))
    check("scan: command is /bin/sh -c with one script",
          c.get("command") == ["/bin/sh", "-c"] and len(c.get("args", [])) == 1)
    script = c.get("args", [""])[0]
    for want, why in [
        ("i=$JOB_COMPLETION_INDEX", "the shard index is the completion index"),
        ('--shard "$i/$SHARDS"', "scans --shard INDEX/SHARDS"),
        ('--db "/scratch/$name"', "scans into the scratch volume"),
        ("name=shard-$i-of-$SHARDS.lmdb", "names its store as the merge expects"),
        ("$STSMAP_ARGS", "passes the scan options"),
        ('mv "/results/$name.tmp" "/results/$name"',
         "publishes the finished store atomically (copy, then rename)"),
        ("set -eu", "stops at the first failing command"),
    ]:
        check(f"scan script: {why}", want in script)
    m = mounts_of(c)
    v = volumes_of(pod)
    check("scan: input mounted read-only at /input",
          m.get("input", {}).get("mountPath") == "/input"
          and m["input"].get("readOnly") is True)
    check("scan: the input file is under the input mount",
          " /input/" in script)
    check("scan: scratch at /scratch is an emptyDir (node-local, not NFS)",
          m.get("scratch", {}).get("mountPath") == "/scratch"
          and "emptyDir" in v.get("scratch", {}))
    check("scan: results at /results is a PersistentVolumeClaim",
          m.get("results", {}).get("mountPath") == "/results"
          and "persistentVolumeClaim" in v.get("results", {}))
    check("scan: every mount has a volume", set(m) <= set(v))

    # The merge Job.
    mpod = merge["template"]["spec"]
    check("merge: a plain Job (not Indexed), one pod",
          merge.get("completionMode") in (None, "NonIndexed")
          and merge.get("completions", 1) == 1)
    check("merge: one container", len(mpod.get("containers", [])) == 1)
    mc = mpod["containers"][0]
    menv = env_of(mc)
    check(f"merge: SHARDS ({menv.get('SHARDS')}) = the scan's ({n})",
          menv.get("SHARDS") == str(n))
    mscript = mc.get("args", [""])[0]
    check("merge: command is /bin/sh -c with one script",
          mc.get("command") == ["/bin/sh", "-c"] and len(mc.get("args", [])) == 1)
    for want, why in [
        ('/results/shard-$i-of-$SHARDS.lmdb', "waits for each shard's store by name"),
        ("stsmap merge", "runs stsmap merge"),
        ("/results/merged.lmdb", "publishes the merged store"),
    ]:
        check(f"merge script: {why}", want in mscript)
    mm = mounts_of(mc)
    mv = volumes_of(mpod)
    check("merge: results mounted at /results",
          mm.get("results", {}).get("mountPath") == "/results")
    check("merge: the same results claim as the scan",
          mv.get("results", {}).get("persistentVolumeClaim", {}).get("claimName")
          == v.get("results", {}).get("persistentVolumeClaim", {}).get("claimName"))
    check("merge: every mount has a volume", set(mm) <= set(mv))

    if len(sys.argv) == 4:
        with open(sys.argv[2], "w", encoding="utf-8") as f:
            f.write(script)
        with open(sys.argv[3], "w", encoding="utf-8") as f:
            f.write(mscript)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
