# shellcheck shell=bash
# tests/shard/slurm_cluster.sh - a one-node Slurm cluster on loopback, from
# a temporary configuration, for tests/shard/test_slurm.sh.
#
# Source it, then:
#   slurm_need_tools        exit 77 (in CI: 1) unless Slurm and MUNGE exist
#   slurm_up DIR            write DIR/slurm.conf, start munged, slurmctld
#                           and slurmd from it; exports SLURM_CONF
#   slurm_down              cancel the jobs, stop what slurm_up started, by
#                           PID (run it from the caller's EXIT trap)
#   job_field JOB FIELD     FIELD (JobState, ExitCode, Restarts, ...) of one
#                           job or array task, from `scontrol show job`
#   slurm_wait SECS JOB...  wait until no JOB (an array: every task) is
#                           pending or running; 1 on timeout
#
# No system service is touched: MUNGE gets its own key and socket, the
# daemons their own state, spool, PID and log files under DIR, and ports
# STSMAP_TEST_SLURM_PORT (16817, slurmctld) and the next one (slurmd) on
# 127.0.0.1.  Runs as root (Slurm's usual set-up) or as any user: the
# daemons then run as that user, which can then only run its own jobs.

slurm_pids=()
slurm_root=/nonexistent

slurm_need_tools() {
	local t
	for t in munged:munge munge:munge slurmctld:slurmctld slurmd:slurmd \
		slurmstepd:slurmd sbatch:slurm-client scontrol:slurm-client; do
		command -v "${t%%:*}" >/dev/null 2>&1 ||
			missing "${t%%:*} not installed (apt-get install ${t#*:})"
	done
}

# slurm_pidfile FILE: wait (10 s) for a daemon's PID file; echo the PID.
slurm_pidfile() {
	local i
	for i in $(seq 100); do
		if [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; then
			cat "$1"
			return 0
		fi
		sleep 0.1
	done
	return 1
}

slurm_up() {
	local d=$1 port=${STSMAP_TEST_SLURM_PORT:-16817} user pid i
	user=$(id -un)
	mkdir -p "$d/munge" "$d/state" "$d/spool" "$d/log"
	slurm_root=$(cd "$d/.." && pwd -P)
	# MUNGE wants its key private and its socket's directory searchable.
	chmod 700 "$d/munge"
	head -c 1024 /dev/urandom >"$d/munge/munge.key"
	chmod 600 "$d/munge/munge.key"
	mkdir -p "$d/msock" && chmod 755 "$d/msock"
	munged --force --socket="$d/msock/munge.socket" \
		--key-file="$d/munge/munge.key" --pid-file="$d/munge/munged.pid" \
		--log-file="$d/log/munged.log" --seed-file="$d/munge/munged.seed" ||
		die "munged did not start: $(tail -3 "$d/log/munged.log")"
	pid=$(slurm_pidfile "$d/munge/munged.pid") || die "munged: no PID file"
	slurm_pids+=("$pid")

	cat >"$d/slurm.conf" <<-EOF
	ClusterName=stsmaptest
	SlurmctldHost=localhost(127.0.0.1)
	SlurmctldPort=$port
	SlurmdPort=$((port + 1))
	SlurmUser=$user
	SlurmdUser=$user
	AuthType=auth/munge
	CredType=cred/munge
	AuthInfo=socket=$d/msock/munge.socket
	StateSaveLocation=$d/state
	SlurmdSpoolDir=$d/spool
	SlurmctldPidFile=$d/slurmctld.pid
	SlurmdPidFile=$d/slurmd.pid
	SlurmctldLogFile=$d/log/slurmctld.log
	SlurmdLogFile=$d/log/slurmd.log
	# no cgroups here: process groups track a job's processes
	ProctrackType=proctrack/pgid
	TaskPlugin=task/none
	JobAcctGatherType=jobacct_gather/none
	AccountingStorageType=accounting_storage/none
	MpiDefault=none
	SwitchType=switch/none
	SelectType=select/cons_tres
	SelectTypeParameters=CR_CPU
	SchedulerType=sched/builtin
	ReturnToService=2
	# a requeued task has 10 s to save its partial store before SIGKILL
	KillWait=10
	NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 RealMemory=4096 State=UNKNOWN
	PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
	EOF
	export SLURM_CONF=$d/slurm.conf
	slurmctld -f "$SLURM_CONF" >"$d/log/slurmctld.out" 2>&1 ||
		die "slurmctld did not start: $(tail -5 "$d/log/slurmctld.log")"
	pid=$(slurm_pidfile "$d/slurmctld.pid") || die "slurmctld: no PID file"
	slurm_pids+=("$pid")
	slurmd -f "$SLURM_CONF" -N localhost >"$d/log/slurmd.out" 2>&1 ||
		die "slurmd did not start: $(tail -5 "$d/log/slurmd.log")"
	pid=$(slurm_pidfile "$d/slurmd.pid") || die "slurmd: no PID file"
	slurm_pids+=("$pid")
	for i in $(seq 100); do
		if scontrol show node localhost 2>/dev/null | grep -q 'State=IDLE'; then
			return 0
		fi
		sleep 0.2
	done
	die "the node did not come up: $(scontrol show node localhost 2>&1 | head -3)" \
		"$(tail -5 "$d/log/slurmd.log")"
}

# Cancel every job of the cluster (all are ours) and wait for them to end,
# so that no slurmstepd outlives slurmd; then stop the daemons in reverse
# order (slurmd, slurmctld, munged), each by its PID: TERM, then KILL after
# 10 s.  A step the cancel missed is found by its working directory (under
# slurm_up's DIR's parent, where the jobs were submitted) and stopped.
slurm_down() {
	local i pid p
	[ "${#slurm_pids[@]}" -gt 0 ] || return 0
	if [ "${#slurm_pids[@]}" -eq 3 ]; then
		scancel --user="$(id -un)" 2>/dev/null || true
		for _ in $(seq 60); do
			[ -z "$(squeue -h 2>/dev/null)" ] && break
			sleep 0.5
		done
	fi
	for ((i = ${#slurm_pids[@]} - 1; i >= 0; i--)); do
		pid=${slurm_pids[i]}
		kill "$pid" 2>/dev/null || continue
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
	done
	slurm_pids=()
	for p in $(pgrep -x slurmstepd 2>/dev/null || true); do
		case $(readlink "/proc/$p/cwd" 2>/dev/null) in
		"$slurm_root"/*) kill -9 "$p" 2>/dev/null || true ;;
		esac
	done
	return 0
}

job_field() {
	scontrol -o show job "$1" 2>/dev/null |
		tr ' ' '\n' | sed -n "s/^$2=//p" | head -1
}

slurm_wait() {
	local secs=$1 end j states
	shift
	end=$(($(date +%s) + secs))
	while [ "$(date +%s)" -lt "$end" ]; do
		states=$(for j in "$@"; do scontrol -o show job "$j" 2>/dev/null; done)
		case $states in
		*JobState=PENDING* | *JobState=RUNNING* | *JobState=CONFIGURING* | \
			*JobState=COMPLETING* | *JobState=REQUEUE* | *JobState=SUSPENDED*) ;;
		*) return 0 ;;
		esac
		sleep 0.5
	done
	return 1
}
