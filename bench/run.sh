#!/bin/bash
# bench/run.sh: flowmon's benchmarks (bench/README.md), run by `make bench`.
# Each section is a script of its own printing one line per figure (each
# the median of RUNS runs, DUR s each for throughput), run in this order;
# a new benchmark is one `section` line below. flowmon runs with the
# default options, as a user runs it (bench/lib.sh).
#
#   RUNS=5 DUR=10 BIG=10000 bash bench/run.sh        # everything
#   SECTIONS="write curve" RUNS=1 DUR=5 bash bench/run.sh
#   CURVE="1000 10000" RELOAD_SIZES=1000 ...         # smaller sizes
#
# Data dirs and logs live under build/bench, on the same disk as the
# repository, so the raw write limit and flowmon are measured on the same
# file system. Only 127.0.0.1 is used; every process started is stopped
# on exit.
set -eu
cd "$(dirname "$0")/.."
export FLOWMON=${FLOWMON:-$PWD/build/flowmon}
export RUNS=${RUNS:-5} DUR=${DUR:-10} BIG=${BIG:-10000}
export BENCH_DIR=${BENCH_DIR:-$PWD/build/bench}
SECTIONS=${SECTIONS:-raw write curve coalesce reload limits scale ui plan}
rm -rf "$BENCH_DIR"
mkdir -p "$BENCH_DIR"

echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -r); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "runs: $RUNS, $DUR s each; figures are medians; sections: $SECTIONS"
T0=$(date +%s)

# section NAME SCRIPT [VAR=VALUE...]: runs SCRIPT (with those variables)
# when NAME is in SECTIONS, and says how long it took and how busy the
# machine was.
section() {
	local name=$1 script=$2 t
	shift 2
	case " $SECTIONS " in *" $name "*) ;; *) return 0 ;; esac
	t=$(date +%s)
	echo "== $name (load average $(cut -d' ' -f1-3 /proc/loadavg))"
	env "$@" bash "$script"
	echo "-- $name took $(($(date +%s) - t)) s"
}

section raw bench/raw.sh		# the disk's own limit
section write bench/write.sh		# target and rule changes, 100 services
section curve bench/curve.sh		# start-up, RssAnon, p99 at 1k/10k/50k
section coalesce bench/coalesce.sh	# reloads per burst of rule changes
section reload bench/reload.sh		# Prometheus's reload vs rule files
section limits bench/limits.sh		# speeds the tests leave to the bench
section scale bench/scale.sh		# reconfigure -> scraped -> alert active
section ui bench/ui.sh UI_SERVICES="$BIG"	# the status page and explain
section plan bench/plan.sh		# flowmon plan of a 200-service stack
section heap bench/heap.sh		# memory by allocation site (not default)

echo "bench: $(($(date +%s) - T0)) s in all"
