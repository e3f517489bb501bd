#!/usr/bin/env bash
# Smoke test of the sharded study on a real (one-node) Slurm cluster that this
# script sets up on the local machine, runs, and tears down again.
#
#   SRMSCOPE=target/release/srmscope STUDY=demo:digits-study tools/slurm_smoke.sh
#   tools/slurm_smoke.sh [--srmscope BIN] [--study STUDY] [--shards N] [--dir DIR]
#                        [-- EXTRA_STUDY_OPTIONS...]
#
# What it does:
#  1. installs slurm-wlm and munge with apt-get if they are missing (root);
#  2. starts a private munged (own key, socket, pid and log under DIR);
#  3. writes a private slurm.conf under DIR (the node and controller are this
#     machine on 127.0.0.1, ports 16817/16818, proctrack/linuxproc, task/none,
#     no cgroups, no accounting daemon, job completion log in DIR/log) and
#     points SLURM_CONF at it, so an existing /etc/slurm is never read or
#     touched; starts slurmctld and slurmd and waits for the node to be idle;
#  4. submits tools/slurm_study.sbatch as an array 1-N (N shards) and the
#     merge as a job that depends on it (afterok), waits for both;
#  5. runs the unsharded study locally and compares the merged RESULTS.json
#     with it under srmscope's promise across thread counts: every number to
#     1e-10 relative (absolute below 1), apart from fit_seconds (and, if they differ,
#     number by number);
#  6. prints PASS or FAIL with the timings and stops the daemons it started.
#
# Everything stays under DIR (logs, shard files, results) for inspection;
# a second run clears DIR's Slurm state and run directory and starts over.
#
# Environment (options win over it):
#   SRMSCOPE     srmscope binary            [target/release/srmscope]
#   STUDY        study dir or demo:<name>   [demo:digits-study]
#   SHARDS       N, the array size          [3]
#   SMOKE_DIR    private working directory  [/var/tmp/srmscope-slurm-smoke]
#   TASK_CPUS    --cpus-per-task per shard  [1]
#   TASK_MEM_MB  --mem per shard in MB      [min(8192, node memory)]
#   NODE_TIMEOUT seconds to wait for the node to come up     [60]
#   JOB_TIMEOUT  seconds to wait for the array and the merge [3600]
#   CTLD_PORT, SLURMD_PORT                  [16817, 16818]
# Exit status: 0 PASS, 1 FAIL (results differ or a job failed), 2 usage,
# 3 the cluster could not be set up.

set -euo pipefail
shopt -s extglob

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SBATCH_FILE=$here/slurm_study.sbatch

SRMSCOPE=${SRMSCOPE:-target/release/srmscope}
STUDY=${STUDY:-demo:digits-study}
N=${SHARDS:-3}
SMOKE_DIR=${SMOKE_DIR:-/var/tmp/srmscope-slurm-smoke}
TASK_CPUS=${TASK_CPUS:-1}
TASK_MEM_MB=${TASK_MEM_MB:-}
NODE_TIMEOUT=${NODE_TIMEOUT:-60}
JOB_TIMEOUT=${JOB_TIMEOUT:-3600}
CTLD_PORT=${CTLD_PORT:-16817}
SLURMD_PORT=${SLURMD_PORT:-16818}
EXTRA=()

usage() { sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }
die() { echo "slurm_smoke: $*" >&2; exit 3; }
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

while (($#)); do
    case $1 in
        --srmscope) SRMSCOPE=${2:?}; shift 2 ;;
        --study) STUDY=${2:?}; shift 2 ;;
        --shards) N=${2:?}; shift 2 ;;
        --dir) SMOKE_DIR=${2:?}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        --) shift; EXTRA=("$@"); break ;;
        *) echo "slurm_smoke: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "slurm_smoke: bad shard count '$N'" >&2; exit 2; }

# The binary must be an absolute path: the jobs run in another directory.
# The default is looked up in the current directory, then in this checkout.
if [[ $SRMSCOPE == target/release/srmscope && ! -x $SRMSCOPE ]]; then
    SRMSCOPE=$here/../target/release/srmscope
fi
if [[ $SRMSCOPE == */* ]]; then
    [[ -x $SRMSCOPE ]] || { echo "slurm_smoke: $SRMSCOPE is not an executable (cargo build --release?)" >&2; exit 2; }
    SRMSCOPE=$(cd "$(dirname "$SRMSCOPE")" && pwd)/$(basename "$SRMSCOPE")
else
    SRMSCOPE=$(command -v "$SRMSCOPE") || { echo "slurm_smoke: no $SRMSCOPE on PATH" >&2; exit 2; }
fi
# A study given as a relative path is made absolute too (demo:<name> is kept).
if [[ $STUDY != demo:* && -e $STUDY ]]; then
    STUDY=$(cd "$(dirname "$STUDY")" && pwd)/$(basename "$STUDY")
fi

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------- packages
need_install=0
for cmd in slurmctld slurmd sbatch squeue scontrol sinfo munged; do
    command -v "$cmd" >/dev/null 2>&1 || need_install=1
done
if ((need_install)); then
    ((EUID == 0)) || die "slurm-wlm/munge missing and not root: apt-get install slurm-wlm munge"
    command -v apt-get >/dev/null || die "slurm-wlm/munge missing and no apt-get"
    log "installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    # Keep the packages' init scripts from starting system-wide munged,
    # slurmctld and slurmd (as Docker images do) unless a policy is in place.
    policy=
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        policy=/usr/sbin/policy-rc.d
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 0755 "$policy"
    fi
    pkgs=(slurm-wlm munge)
    apt_rc=0
    apt-get install -y -q --no-install-recommends "${pkgs[@]}" >/dev/null ||
        { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${pkgs[@]}" >/dev/null; } ||
        apt_rc=$?
    [[ -z $policy ]] || rm -f "$policy"
    ((apt_rc == 0)) || die "apt-get install ${pkgs[*]} failed ($apt_rc)"
fi
((EUID == 0)) || die "run as root (SlurmUser=root keeps the one-node setup free of service accounts)"
SLURM_VERSION=$(slurmctld -V 2>/dev/null || true)
log "$SLURM_VERSION, $(munged -V 2>/dev/null | head -n1)"

# ---------------------------------------------------------------- layout
NODE=$(hostname -s)
CONF_DIR=$SMOKE_DIR/etc
MUNGE_DIR=$SMOKE_DIR/munge
STATE_DIR=$SMOKE_DIR/state
SPOOL_DIR=$SMOKE_DIR/spool
RUN_DIR=$SMOKE_DIR/run
LOG_DIR=$SMOKE_DIR/log
WORK=$SMOKE_DIR/work
export SLURM_CONF=$CONF_DIR/slurm.conf
MUNGE_SOCK_DIR=$SMOKE_DIR/munge-socket
MUNGE_SOCK=$MUNGE_SOCK_DIR/munge.socket
MUNGE_PID=$MUNGE_SOCK_DIR/munged.pid
CTLD_PID=$RUN_DIR/slurmctld.pid
SLURMD_PID=$RUN_DIR/slurmd.pid

mkdir -p "$SMOKE_DIR"
chmod 0755 "$SMOKE_DIR"

# A pid file of ours names a live process started from this directory?
ours() {
    local pid
    [[ -s $1 ]] || return 1
    pid=$(<"$1")
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$SMOKE_DIR" || return 1
    echo "$pid"
}
stop_pidfile() { # pidfile name
    local pid i
    pid=$(ours "$1") || return 0
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
    echo "slurm_smoke: $2 ($pid) did not stop, killing it" >&2
    kill -9 "$pid" 2>/dev/null || true
}
stop_all() {
    stop_pidfile "$SLURMD_PID" slurmd
    stop_pidfile "$CTLD_PID" slurmctld
    stop_pidfile "$MUNGE_PID" munged
}
JOBS_TO_CANCEL=()
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if ((${#JOBS_TO_CANCEL[@]})) && [[ -n $(squeue -h -j "$(IFS=,; echo "${JOBS_TO_CANCEL[*]}")" 2>/dev/null) ]]; then
        log "cancelling jobs ${JOBS_TO_CANCEL[*]}"
        scancel "${JOBS_TO_CANCEL[@]}" 2>/dev/null || true
        sleep 2
    fi
    log "stopping slurmd, slurmctld, munged"
    stop_all
    exit "$rc"
}
print_logs() {
    local f
    for f in "$LOG_DIR"/munged.log "$LOG_DIR"/slurmctld.log "$LOG_DIR"/slurmd.log; do
        [[ -e $f ]] || continue
        echo "----- tail of $f" >&2
        tail -n 40 "$f" >&2
    done
}

# Leftovers of an interrupted earlier run (only processes started from
# SMOKE_DIR, found through its pid files).
stop_all
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -rf "$STATE_DIR" "$SPOOL_DIR" "$RUN_DIR" "$LOG_DIR" "$WORK"
mkdir -p "$CONF_DIR" "$STATE_DIR" "$SPOOL_DIR" "$RUN_DIR" "$LOG_DIR" "$WORK/out" "$WORK/logs"
install -d -m 0700 "$MUNGE_DIR"
install -d -m 0755 "$MUNGE_SOCK_DIR"

# ---------------------------------------------------------------- munge
if [[ ! -s $MUNGE_DIR/munge.key ]]; then
    log "creating munge key $MUNGE_DIR/munge.key"
    if command -v mungekey >/dev/null; then
        mungekey --create --keyfile="$MUNGE_DIR/munge.key"
    else
        dd if=/dev/urandom of="$MUNGE_DIR/munge.key" bs=1024 count=1 status=none
    fi
fi
chmod 0400 "$MUNGE_DIR/munge.key"
# --force: munged refuses some root-owned setups (e.g. running as root)
# without it; all files here are root's own.
munged --force --socket="$MUNGE_SOCK" --key-file="$MUNGE_DIR/munge.key" \
    --pid-file="$MUNGE_PID" --log-file="$LOG_DIR/munged.log" \
    --seed-file="$MUNGE_DIR/munged.seed" ||
    { print_logs; die "munged did not start"; }
munge -S "$MUNGE_SOCK" -n </dev/null | unmunge -S "$MUNGE_SOCK" >/dev/null ||
    { print_logs; die "munge round trip failed"; }

# ---------------------------------------------------------------- slurm.conf
# Node hardware as slurmd itself detects it (so the node is not drained for
# a mismatch); memory a little below, as recommended.
hw=$(slurmd -C 2>/dev/null | head -n1 | sed 's/^NodeName=[^ ]* //') || true
[[ $hw == *CPUs=* ]] || hw="CPUs=$(nproc) RealMemory=$(($(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo)))"
mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$hw")
mem=$((mem * 95 / 100))
hw=${hw/RealMemory=+([0-9])/RealMemory=$mem}
ncpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$hw")
((TASK_CPUS <= ncpus)) || die "TASK_CPUS=$TASK_CPUS but the node has $ncpus CPUs"
: "${TASK_MEM_MB:=$((mem < 8192 ? mem : 8192))}"

: >"$CONF_DIR/plugstack.conf"
cat >"$SLURM_CONF" <<EOF
# Written by tools/slurm_smoke.sh: a private one-node cluster on 127.0.0.1.
ClusterName=srmscope-smoke
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCK
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
SwitchType=switch/none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$LOG_DIR/jobcomp.txt
PlugStackConfig=$CONF_DIR/plugstack.conf
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MinJobAge=3600
StateSaveLocation=$STATE_DIR
SlurmdSpoolDir=$SPOOL_DIR
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=$NODE NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=smoke Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
# Only read where a cgroup plugin is configured; kept for Slurm versions
# that look for it anyway.
cat >"$CONF_DIR/cgroup.conf" <<'EOF'
CgroupPlugin=autodetect
ConstrainCores=no
ConstrainRAMSpace=no
ConstrainDevices=no
EOF

# ---------------------------------------------------------------- daemons
log "starting slurmctld and slurmd (SLURM_CONF=$SLURM_CONF)"
t0=$(now)
slurmctld -c -f "$SLURM_CONF" || { print_logs; die "slurmctld did not start"; }
slurmd -f "$SLURM_CONF" -N "$NODE" || { print_logs; die "slurmd did not start"; }
state=
while :; do
    state=$(sinfo -h -N -n "$NODE" -o '%T' 2>/dev/null || true)
    [[ $state == idle ]] && break
    if awk -v a="$t0" -v b="$(now)" 'BEGIN { exit !(b - a > 3) }' &&
        ! { ours "$CTLD_PID" && ours "$SLURMD_PID"; } >/dev/null; then
        print_logs
        die "slurmctld or slurmd exited (state '${state:-none}'); see the logs above"
    fi
    if awk -v a="$t0" -v b="$(now)" -v t="$NODE_TIMEOUT" 'BEGIN { exit !(b - a > t) }'; then
        scontrol show node "$NODE" >&2 || true
        print_logs
        die "node $NODE not idle after ${NODE_TIMEOUT}s (state '${state:-none}')"
    fi
    sleep 0.5
done
log "node $NODE idle after $(since "$t0")s: $hw"

# ---------------------------------------------------------------- jobs
wait_jobs() { # timeout jobid...
    local timeout=$1 t ids
    t=$(now)
    shift
    ids=$(IFS=,; echo "$*")
    while [[ -n $(squeue -h -j "$ids" -o %i 2>/dev/null) ]]; do
        if awk -v a="$t" -v b="$(now)" -v t="$timeout" 'BEGIN { exit !(b - a > t) }'; then
            squeue -j "$ids" >&2 || true
            print_logs
            echo "slurm_smoke: jobs $ids still queued/running after ${timeout}s" >&2
            return 1
        fi
        sleep 1
    done
}

shard_list=()
for ((i = 1; i <= N; i++)); do shard_list+=("$WORK/out/shard_$i.json"); done
merge_cmd=$(printf '%q ' "$SRMSCOPE" study --merge "${shard_list[@]}" --out "$WORK/out/RESULTS.json")

log "submitting $SBATCH_FILE --array=1-$N (STUDY=$STUDY, ${TASK_CPUS} cpu, ${TASK_MEM_MB}M per task)${EXTRA[*]:+ extra: ${EXTRA[*]}}"
t_submit=$(now)
JOBID=$(cd "$WORK/logs" && env -u SHARDS STUDY="$STUDY" OUT_DIR="$WORK/out" SRMSCOPE="$SRMSCOPE" \
    sbatch --parsable --array="1-$N" --cpus-per-task="$TASK_CPUS" --mem="${TASK_MEM_MB}M" \
    "$SBATCH_FILE" "${EXTRA[@]}") || { print_logs; die "sbatch of the array failed"; }
JOBID=${JOBID%%;*}
JOBS_TO_CANCEL+=("$JOBID")
MERGE_ID=$(cd "$WORK/logs" && sbatch --parsable --dependency="afterok:$JOBID" --kill-on-invalid-dep=yes \
    --job-name=srmscope-merge --output='%x_%j.out' --cpus-per-task=1 --mem="${TASK_MEM_MB}M" \
    --wrap="$merge_cmd") || die "sbatch of the merge failed"
MERGE_ID=${MERGE_ID%%;*}
JOBS_TO_CANCEL+=("$MERGE_ID")
log "array job $JOBID, merge job $MERGE_ID (afterok:$JOBID)"

fail=0
wait_jobs "$JOB_TIMEOUT" "$JOBID" "$MERGE_ID" || fail=1
t_jobs=$(since "$t_submit")

# One line per array task and for the merge, from slurmctld's job records
# (completed jobs stay there MinJobAge seconds; no accounting daemon runs).
job_field() { { grep -o "\\b$1=[^ ]*" <<<"$2" || true; } | head -n1 | cut -d= -f2-; }
echo
echo "Slurm job records (scontrol show job):"
printf '  %-12s %-10s %-6s %-10s %-9s %-8s %s\n' JobId ArrayTask Node State ExitCode RunTime "Start .. End"
n_done=0
while IFS= read -r rec; do
    [[ -n $rec ]] || continue
    st=$(job_field JobState "$rec")
    task=$(job_field ArrayTaskId "$rec")
    printf '  %-12s %-10s %-6s %-10s %-9s %-8s %s .. %s\n' "$(job_field JobId "$rec")" "${task:--}" \
        "$(job_field NodeList "$rec")" "$st" "$(job_field ExitCode "$rec")" "$(job_field RunTime "$rec")" \
        "$(job_field StartTime "$rec")" "$(job_field EndTime "$rec")"
    [[ -n $task && $st == COMPLETED ]] && n_done=$((n_done + 1))
    [[ $st == COMPLETED ]] || fail=1
done < <(scontrol -o show job "$JOBID" 2>/dev/null; scontrol -o show job "$MERGE_ID" 2>/dev/null)
echo
if ((n_done != N)); then
    echo "slurm_smoke: $n_done of $N array tasks completed" >&2
    fail=1
fi
echo "Per-task logs ($WORK/logs):"
for f in "$WORK"/logs/*.out; do
    [[ -e $f ]] || continue
    echo "== $(basename "$f")"
    sed 's/^/   /' "$f"
done
echo

# ---------------------------------------------------------------- unsharded
log "unsharded run: $SRMSCOPE study $STUDY --out one.json --no-cache ${EXTRA[*]}"
t_one=$(now)
"$SRMSCOPE" study "$STUDY" --out "$WORK/out/one.json" --no-cache "${EXTRA[@]}" >"$WORK/logs/unsharded.out" 2>&1 ||
    { cat "$WORK/logs/unsharded.out" >&2; fail=1; }
t_one=$(since "$t_one")

# ---------------------------------------------------------------- compare
# The promise across thread counts (src/analysis/study/agree.rs): every number agrees to
# |a - b| <= 1e-10 * max(1, |a|, |b|); structure and strings match exactly; fit_seconds is a
# measurement. Shards on TASK_CPUS threads and the unsharded run on all cores sum in different
# orders, so bytes may differ in the last digits.
verdict=FAIL
if [[ -s $WORK/out/RESULTS.json && -s $WORK/out/one.json ]]; then
    if python3 - "$WORK/out/RESULTS.json" "$WORK/out/one.json" <<'PY'
import json, sys

TOL = 1e-10
beyond, largest, inexact = [], None, 0

def walk(a, b, path):
    global largest, inexact
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k == "fit_seconds":
                continue
            if k not in a or k not in b:
                beyond.append((path + "/" + k, "only in " + ("merged" if k in a else "unsharded")))
            else:
                walk(a[k], b[k], path + "/" + k)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            walk(x, y, f"{path}[{i}]")
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)) \
            and not isinstance(a, bool) and not isinstance(b, bool):
        if a == b:
            return
        inexact += 1
        scaled = abs(a - b) / max(1.0, abs(a), abs(b))
        if largest is None or scaled > largest[0]:
            largest = (scaled, path or "/", a, b)
        if not scaled <= TOL:
            beyond.append((path or "/", f"{a!r} vs {b!r} (scaled gap {scaled:.3g})"))
    elif a != b:
        beyond.append((path or "/", f"{a!r} vs {b!r}"))

walk(*(json.load(open(p)) for p in sys.argv[1:3]), "")
where = "" if largest is None else \
    f", the largest {largest[0]:.3g} at {largest[1]} ({largest[2]!r} vs {largest[3]!r})"
if beyond:
    print(f"merged RESULTS.json and the unsharded one.json differ beyond {TOL:g} "
          f"in {len(beyond)} places{where}:")
    for p, what in beyond[:30]:
        print(f"  {p}: {what}")
    sys.exit(1)
if inexact:
    print(f"merged RESULTS.json and the unsharded one.json agree to {TOL:g}: {inexact} numbers "
          f"differ in the last bits (thread counts differ){where}")
else:
    print("merged RESULTS.json and the unsharded one.json are identical apart from fit_seconds")
PY
    then
        ((fail)) || verdict=PASS
    else
        fail=1
    fi
else
    fail=1
    for f in RESULTS.json one.json; do
        [[ -s $WORK/out/$f ]] || echo "missing output: $WORK/out/$f"
    done
fi

echo
echo "timings: node up $(awk -v a="$t0" -v b="$t_submit" 'BEGIN { printf "%.1f", b - a }')s," \
     "array of $N + merge under Slurm ${t_jobs}s (submit to last job done), unsharded ${t_one}s"
echo "results and logs: $WORK (job completion log: $LOG_DIR/jobcomp.txt)"
echo "$verdict"
[[ $verdict == PASS ]]
