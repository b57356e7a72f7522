#!/usr/bin/env bash
# A real single-node Slurm cluster on this machine, for `dubber batch` and its tests:
#   scripts/slurm-local.sh start    munge key + munged, then slurmctld and slurmd (this host is the
#                                   controller and the only node); waits until the node is idle
#   scripts/slurm-local.sh stop     stops slurmd, slurmctld and munged (those this script started)
#   scripts/slurm-local.sh status   exits 0 when the cluster answers, and shows sinfo
#
# Needs root and Debian's `slurm-wlm` and `munge` packages (scripts/setup.sh installs them). It
# writes /etc/slurm/slurm.conf (the path every Slurm command reads), so use it on a test machine
# or a container, not on a host that is already part of a cluster. Starting twice is harmless.
set -euo pipefail

conf=/etc/slurm/slurm.conf
host=$(hostname -s)
# Tasks run on the node as processes, not pinned to cores: let more tasks than cores run (the
# tests' tasks mostly wait on a TTS server).
cpus=8
mem_mb=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)

die() { echo "slurm-local: $*" >&2; exit 1; }

need_root() { [ "$(id -u)" -eq 0 ] || die "needs root (it starts munged, slurmctld and slurmd)"; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

write_conf() {
  mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
  cat >"$conf" <<EOF
# written by dubber scripts/slurm-local.sh
ClusterName=dubberlocal
SlurmctldHost=${host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# A requeued task may start again this many seconds after it ended (default 120).
AuthInfo=cred_expire=10
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SlurmdParameters=config_overrides
ReturnToService=2
JobRequeue=1
MinJobAge=600
MpiDefault=none
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=60
NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${mem_mb} State=UNKNOWN
PartitionName=local Nodes=${host} Default=YES MaxTime=INFINITE State=UP
EOF
}

start_munge() {
  if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=128 status=none
  fi
  chown munge:munge /etc/munge/munge.key 2>/dev/null || true
  chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
  if ! munge -n </dev/null >/dev/null 2>&1; then
    if id munge >/dev/null 2>&1; then
      runuser -u munge -- /usr/sbin/munged
    else
      /usr/sbin/munged --force
    fi
  fi
  for _ in $(seq 50); do munge -n </dev/null >/dev/null 2>&1 && return; sleep 0.1; done
  die "munged did not start"
}

start() {
  need_root
  command -v slurmctld >/dev/null || die "slurmctld is missing: apt-get install slurm-wlm munge"
  write_conf
  start_munge
  # A fresh controller state (-c): jobs of an earlier session are not resumed.
  alive /run/slurmctld.pid || /usr/sbin/slurmctld -c
  alive /run/slurmd.pid || /usr/sbin/slurmd
  for _ in $(seq 60); do
    state=$(sinfo -h -n "$host" -o %T 2>/dev/null || true)
    case "$state" in
      idle* | mixed* | allocated*) echo "slurm-local: node $host is $state"; return ;;
      down* | drain*) scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true ;;
    esac
    sleep 0.5
  done
  die "the node did not come up (see /var/log/slurm/slurmctld.log and slurmd.log)"
}

stop() {
  need_root
  for pidfile in /run/slurmd.pid /run/slurmctld.pid; do
    if alive "$pidfile"; then
      pid=$(cat "$pidfile")
      kill "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
  done
  if [ -f /run/munge/munged.pid ] && alive /run/munge/munged.pid; then
    kill "$(cat /run/munge/munged.pid)"
  fi
  echo "slurm-local: stopped"
}

status() {
  sinfo -h -o '%N %T' 2>/dev/null | grep -q . || die "not running"
  sinfo
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) die "usage: $0 start|stop|status" ;;
esac
