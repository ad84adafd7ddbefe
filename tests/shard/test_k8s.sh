#!/usr/bin/env bash
# The Kubernetes recipe, as far as it can be checked without a cluster
# (none runs here; the Slurm recipe runs for real in test_slurm.sh):
#  - scripts/shard-k8s.yaml parses (PyYAML) and has the Job fields the
#    recipe relies on (check_k8s.py: Indexed completion mode, completions =
#    parallelism = SHARDS, restartPolicy, the volumes and mounts);
#  - the scan and merge containers' scripts pass `sh -n`, and run under
#    /bin/sh with the pod's environment (JOB_COMPLETION_INDEX 0..N-1,
#    SHARDS, STSMAP_ARGS) and the volume paths moved into a temporary
#    directory, against a stub `stsmap` that records its arguments: each
#    index scans its own --shard I/N with the options split into words and
#    publishes shard-I-of-N.lmdb; the merge waits for all N, then merges
#    exactly those N and publishes merged.lmdb.
# Not checked: the image, the claims' access modes, scheduling, restarts.
# Usage: test_k8s.sh
# The checks pass single-quoted tests to eval on purpose (they expand there).
# shellcheck disable=SC2016,SC2034
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
manifest=$(cd "$here/../../scripts" && pwd -P)/shard-k8s.yaml
# check, ok, bad, finish, the scratch directory and the CI rule for a
# missing tool: tests/lib/world.sh (no world is served here).
# shellcheck source=../lib/world.sh
. "$here/../lib/world.sh"
python3 -c 'import yaml' 2>/dev/null ||
	missing "python3's yaml module not installed (apt-get install python3-yaml)"
lib_tmpdir k8s

python3 "$here/check_k8s.py" "$manifest" "$tmp/scan.sh" "$tmp/merge.sh" >"$tmp/fields.out" ||
	true
cat "$tmp/fields.out"
pass=$((pass + $(grep -c '^ok - ' "$tmp/fields.out" || true)))
fail=$((fail + $(grep -c '^FAIL - ' "$tmp/fields.out" || true)))
[ -s "$tmp/scan.sh" ] || {
	echo "test_k8s: the manifest's scripts could not be extracted"
	exit 1
}
check "scan script: sh -n" sh -n "$tmp/scan.sh"
check "merge script: sh -n" sh -n "$tmp/merge.sh"

# The pod's paths, moved under $tmp; a stub stsmap on PATH.
for f in scan merge; do
	sed -e "s|/input/|$tmp/input/|g" -e "s|/scratch/|$tmp/scratch/|g" \
		-e "s|/results/|$tmp/results/|g" "$tmp/$f.sh" >"$tmp/$f.local.sh"
done
mkdir -p "$tmp/bin" "$tmp/input" "$tmp/scratch" "$tmp/results"
printf 'a.test\nb.test\n' >"$tmp/input/domains.txt"
cat >"$tmp/bin/stsmap" <<-'EOF'
#!/bin/sh
# stub: log the arguments one per line, make the store named
printf '%s\n' "$@" >"$STUB_LOG.$$"
case $1 in
scan)
	while [ $# -gt 0 ]; do
		[ "$1" = --db ] && echo "store $2" >"$2"
		shift
	done ;;
merge) shift; out=$1; shift; printf '%s\n' "$@" >"$out" ;;
esac
EOF
chmod 755 "$tmp/bin/stsmap"
shards=$(python3 -c 'import sys, yaml
d = [x for x in yaml.safe_load_all(open(sys.argv[1])) if x]
print(d[0]["spec"]["completions"])' "$manifest")
args=$(python3 -c 'import sys, yaml
d = [x for x in yaml.safe_load_all(open(sys.argv[1])) if x]
e = {v["name"]: v["value"] for v in d[0]["spec"]["template"]["spec"]["containers"][0]["env"]}
print(e["STSMAP_ARGS"])' "$manifest")
export PATH=$tmp/bin:$PATH SHARDS=$shards STSMAP_ARGS=$args
runs_ok=1
for i in $(seq 0 $((shards - 1))); do
	mkdir -p "$tmp/log$i"
	STUB_LOG=$tmp/log$i/args JOB_COMPLETION_INDEX=$i sh "$tmp/scan.local.sh" ||
		runs_ok=0
done
check "the scan script ran for each of the $shards indices" [ "$runs_ok" -eq 1 ]
# want_args I: what the stub must have been given by index I.
want_args() {
	local a
	printf '%s\n' scan --db "$tmp/scratch/shard-$1-of-$shards.lmdb" \
		--shard "$1/$shards" --label "k8s-$shards"
	# shellcheck disable=SC2086
	for a in $args; do echo "$a"; done
	echo "$tmp/input/domains.txt"
}
args_ok=1 published=1
for i in $(seq 0 $((shards - 1))); do
	cmp -s <(cat "$tmp/log$i"/args.*) <(want_args "$i") || {
		args_ok=0
		diff <(cat "$tmp/log$i"/args.*) <(want_args "$i") | head -5 || true
	}
	[ -s "$tmp/results/shard-$i-of-$shards.lmdb" ] || published=0
done
check "index I ran stsmap scan --shard I/$shards, STSMAP_ARGS split into words" \
	[ "$args_ok" -eq 1 ]
check "every index published shard-I-of-$shards.lmdb, no .tmp left" \
	eval '[ "$published" -eq 1 ] && ! ls "$tmp"/results/*.tmp 2>/dev/null'

mkdir -p "$tmp/logm"
check "the merge script ran (all $shards stores present: no waiting)" \
	env STUB_LOG="$tmp/logm/args" timeout 30 sh "$tmp/merge.local.sh"
check "the merge merged exactly the $shards shard stores" \
	eval '[ "$(grep -c "shard-.*-of-$shards.lmdb" "$tmp/results/merged.lmdb")" -eq "$shards" ]'
# With one store missing the merge must still be waiting.
rm -f "$tmp/results/merged.lmdb" "$tmp/results/shard-0-of-$shards.lmdb"
rc=0
STUB_LOG=$tmp/logm/args2 timeout 3 sh "$tmp/merge.local.sh" || rc=$?
check "with shard 0 missing the merge waits (killed by the timeout, exit $rc)" \
	eval '[ "$rc" -eq 124 ] && [ ! -e "$tmp/results/merged.lmdb" ]'

finish
