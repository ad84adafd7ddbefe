#!/usr/bin/env bash
# The Slurm recipe on a real Slurm: a one-node cluster on loopback
# (tests/shard/slurm_cluster.sh: munged, slurmctld and slurmd from a
# temporary configuration, stopped by PID), the catalog world served, and
# the README's two commands ("Many machines"): the 4-task array of
# scripts/shard-slurm.sbatch and the merge job that depends on it.
#  - every task and the merge complete, and the merged store reports what
#    the truth says (compare_truth.py) and exactly what a single-machine
#    scan of the same input reports (records and `report --format json`);
#  - task 0 is requeued mid-scan (`scontrol requeue`): it saves its partial
#    store, its node-local scratch is then wiped (as if it restarted on
#    another node), and the requeued task resumes the same scan from the
#    partial store: every record of it kept, none twice, the rest added.
# Usage: test_slurm.sh PATH/TO/stsmap
# Exits 77 (skipped) when the world's servers, Slurm or MUNGE are missing;
# with CI=true that is a failure (tests/lib/skip.sh).  Ports: the world's
# (tests/lib/world.sh), Slurm 16817-16818 (STSMAP_TEST_SLURM_PORT).
# Runs as root or as any user (the daemons then run as that user).
# The checks pass single-quoted tests to eval on purpose (they expand there).
# shellcheck disable=SC2016,SC2034
set -euo pipefail

stsmap=${1:?usage: test_slurm.sh STSMAP}
here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source=../lib/world.sh
. "$here/../lib/world.sh"
# shellcheck source=slurm_cluster.sh
. "$here/slurm_cluster.sh"
world_need_tools
slurm_need_tools
stsmap=$(cd "$(dirname "$stsmap")" && pwd -P)/$(basename "$stsmap")
start=$(date +%s)
[ -x "$stsmap" ] || die "$stsmap is not an executable"
sbatch_script=$(cd "$here/../../scripts" && pwd -P)/shard-slurm.sbatch
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stsmap-slurm.XXXXXX")
trap 'slurm_down; lib_cleanup' EXIT
chmod 755 "$tmp"
w=$tmp/w
world_serve "$w"
read -r -a opts <<<"$(world_scan_opts "$w")"
opts+=(--https-timeout 4000)
# The shards are paced and commit after every record: a task runs for
# seconds, so it can be requeued mid-scan with some records stored and
# some not (neither option changes what is measured).
shard_opts=("${opts[@]}" --qps 25 --batch 1)

# records FILE.jsonl: one line per record, sorted, without what differs
# between two scans of the same world by design: durations, the order of
# the DNS answers (records, TXT strings), and the numbers in a finding's
# detail (curl's elapsed milliseconds, the days a certificate has left).
records() {
	python3 -c '
import json, re, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    for k in [k for k in r if k.endswith("_ms") or k in ("scan", "time")]:
        del r[k]
    r["mx"].sort(key=lambda m: (m["host"] or "", m["pref"]))
    for k, v in r.items():
        if isinstance(v, list) and all(isinstance(x, str) for x in v):
            v.sort()
    for f in r["findings"]:
        f["detail"] = re.sub("[0-9]+", "N", f["detail"])
    r["findings"].sort(key=lambda f: (f["code"], f["detail"]))
    print(json.dumps(r, sort_keys=True))
' "$1" | sort
}
# report_core FILE.json: the report without its run metadata (the scan's
# id, label and times, also in the trend rows).
report_core() {
	python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
for k in ("scan", "meta", "generated"):
    r.pop(k, None)
for t in r.get("trend", []):
    for k in ("scan", "label", "started", "finished"):
        t.pop(k, None)
print(json.dumps(r, sort_keys=True, indent=1))
' "$1"
}

# --- the single-machine scan --------------------------------------------------
t0=$(date +%s)
"$stsmap" scan --db "$tmp/single.lmdb" "${opts[@]}" --quiet "$w/domains.txt" \
	2>"$tmp/single.log" || { cat "$tmp/single.log"; die "single scan failed"; }
echo "# single-machine scan: $(($(date +%s) - t0)) s"
"$stsmap" export --db "$tmp/single.lmdb" >"$tmp/single.jsonl"
"$stsmap" report --db "$tmp/single.lmdb" --format json >"$tmp/single.report.json"
check "single scan equals the truth" \
	python3 "$here/../scan/compare_truth.py" "$w/truth.jsonl" "$tmp/single.jsonl"

# --- the cluster --------------------------------------------------------------
slurm_up "$tmp/slurm"
ok "one-node Slurm cluster up ($(sinfo -h -o '%P %t %N' 2>/dev/null || true))"
# The jobs find stsmap on PATH, as on a cluster where it is installed, and
# their node-local scratch ($TMPDIR) here.
mkdir -p "$tmp/bin" "$tmp/node" "$tmp/submit" "$tmp/out"
ln -s "$stsmap" "$tmp/bin/stsmap"
export PATH=$tmp/bin:$PATH TMPDIR=$tmp/node
outdir=$tmp/out
cd "$tmp/submit"

# The README's commands, with this world's input, OUTDIR and options.
t0=$(date +%s)
jid=$(sbatch --parsable --array=0-3 "$sbatch_script" \
	"$w/domains.txt" "$outdir" "${shard_opts[@]}")
mid=$(sbatch --parsable --dependency=afterok:"$jid" --wrap \
	"stsmap merge $tmp/merged.lmdb $outdir/shard-*-of-4.lmdb")
check "array job $jid and merge job $mid submitted" \
	eval '[ -n "$jid" ] && [ -n "$mid" ]'

# Requeue task 0 once it has stored some records, long before its last.
local0=$tmp/node/stsmap-$jid-0/shard-0-of-4.lmdb
n_at=0
end=$(($(date +%s) + 120))
while [ "$(date +%s)" -lt "$end" ]; do
	if [ -s "$local0" ]; then
		n_at=$("$stsmap" export --db "$local0" 2>/dev/null | wc -l || true)
		[ "$n_at" -ge 3 ] && break
	fi
	sleep 0.2
done
check "task 0 running, $n_at records stored before the requeue" [ "$n_at" -ge 3 ]
scontrol requeue "${jid}_0"
# Slurm holds a requeued job back (its BeginTime) for two minutes: the
# partial store must be saved by then.
end=$(($(date +%s) + 60))
while [ "$(date +%s)" -lt "$end" ]; do
	[ "$(job_field "${jid}_0" JobState)" = PENDING ] && break
	sleep 0.2
done
check "task 0 requeued: pending again" [ "$(job_field "${jid}_0" JobState)" = PENDING ]
check "the requeued task saved its partial store" [ -s "$outdir/shard-0-of-4.lmdb.partial" ]
"$stsmap" export --db "$outdir/shard-0-of-4.lmdb.partial" >"$tmp/partial.jsonl" 2>/dev/null || true
n_partial=$(wc -l <"$tmp/partial.jsonl")
check "the partial store holds the records made before the requeue ($n_partial >= $n_at)" \
	[ "$n_partial" -ge "$n_at" ]
# As if the task restarted on another node: its scratch is gone, only
# the partial store in OUTDIR is left.  Then let it start now.
rm -rf "$tmp/node/stsmap-$jid-0"
scontrol update JobId="${jid}_0" StartTime=now

slurm_wait 240 "$jid" "$mid" || bad "jobs still running after 240 s"
echo "# array and merge on Slurm: $(($(date +%s) - t0)) s"
for i in 0 1 2 3; do
	check "task $i completed, exit 0 ($(job_field "${jid}_$i" JobState) $(job_field "${jid}_$i" ExitCode))" \
		eval '[ "$(job_field "${jid}_$i" JobState)" = COMPLETED ] && [ "$(job_field "${jid}_$i" ExitCode)" = 0:0 ]'
done
check "task 0 ran twice (Restarts=1)" [ "$(job_field "${jid}_0" Restarts)" = 1 ]
check "merge job completed ($(job_field "$mid" JobState) $(job_field "$mid" ExitCode))" \
	eval '[ "$(job_field "$mid" JobState)" = COMPLETED ] && [ "$(job_field "$mid" ExitCode)" = 0:0 ]'
log0=$tmp/submit/stsmap-${jid}_0.out
check "task 0's log keeps both runs: stopped by the requeue, then resumed" \
	eval 'grep -q "terminated: stopping" "$log0" && grep -q "resuming scan 1 " "$log0"'
check "no partial store left behind" [ ! -e "$outdir/shard-0-of-4.lmdb.partial" ]
check "every task left a finished store" \
	eval '[ "$(ls "$outdir"/shard-*-of-4.lmdb | wc -l)" -eq 4 ]'

# --- the resumed shard: nothing lost, nothing twice ---------------------------
"$stsmap" export --db "$outdir/shard-0-of-4.lmdb" >"$tmp/shard0.jsonl"
check "shard 0 holds each domain once" \
	eval '[ "$(python3 -c "import json,sys; print(len([json.loads(l)[\"domain\"] for l in open(sys.argv[1])]) - len({json.loads(l)[\"domain\"] for l in open(sys.argv[1])}))" "$tmp/shard0.jsonl")" -eq 0 ]'
check "shard 0 kept every record of its partial store, unchanged" \
	eval '[ -z "$(comm -23 <(records "$tmp/partial.jsonl") <(records "$tmp/shard0.jsonl"))" ]'
check "shard 0 added the rest ($(wc -l <"$tmp/shard0.jsonl") > $n_partial)" \
	[ "$(wc -l <"$tmp/shard0.jsonl")" -gt "$n_partial" ]

# --- the merged store against the truth and the single scan -------------------
"$stsmap" export --db "$tmp/merged.lmdb" >"$tmp/merged.jsonl"
"$stsmap" report --db "$tmp/merged.lmdb" --format json >"$tmp/merged.report.json"
check "merged store equals the truth" \
	python3 "$here/../scan/compare_truth.py" "$w/truth.jsonl" "$tmp/merged.jsonl"
check "merged records equal the single scan's ($(wc -l <"$tmp/merged.jsonl") / $(wc -l <"$tmp/single.jsonl"))" \
	cmp -s <(records "$tmp/single.jsonl") <(records "$tmp/merged.jsonl")
if ! cmp -s <(records "$tmp/single.jsonl") <(records "$tmp/merged.jsonl"); then
	diff <(records "$tmp/single.jsonl") <(records "$tmp/merged.jsonl") | head -10 || true
fi
check "merged report (JSON) equals the single scan's" \
	cmp -s <(report_core "$tmp/single.report.json") <(report_core "$tmp/merged.report.json")
if ! cmp -s <(report_core "$tmp/single.report.json") <(report_core "$tmp/merged.report.json"); then
	diff <(report_core "$tmp/single.report.json") <(report_core "$tmp/merged.report.json") | head -20 || true
fi

cd "$tmp"
slurm_down
check "no Slurm or MUNGE process of this test left" \
	eval '! pgrep -f "$tmp/slurm" >/dev/null'
world_stop
echo "# whole test: $(($(date +%s) - start)) s"
finish
