#!/bin/bash
# bench/write.sh: durable reconfigures at 100 services, 8 connections:
# target changes (two durable files per request: the record and the target
# file), then rule changes (a third file, checked by promtool first) at 8
# and 64 connections. flowmon runs with the default options (promtool from
# PATH). Run by bench/run.sh; the same figures at more services are
# bench/curve.sh's.
. "$(dirname "$0")/lib.sh"
need wrk curl python3 promtool

data=$BENCH_DIR/data-write
rm -rf "$data"
fm_start "$data"
fill 100
read -r rps p50 p99 errs <<<"$(wrk_runs 100 0)"
figure rps100 "$rps"
echo "target changes at 100 services, 8 connections: $rps req/s, p50 $p50 ms, p99 $p99 ms, runs with errors: $errs"
raw1=$(figure_get raw1)
[ -z "$raw1" ] || echo "throughput at 100 services / raw 1-thread limit: $(awk -v a="$rps" -v b="$raw1" 'BEGIN { printf "%.2f", a / b }')"

# Each request also changes its service's alert expression: a new rule
# file, which promtool must accept before anything is written.
for c in 8 64; do
	read -r r p50 p99 errs <<<"$(BENCH_ALERTS=1 wrk_runs 100 $((c * 100)) "$c")"
	echo "rule changes with promtool at 100 services, $c connections: $r req/s, p50 $p50 ms, p99 $p99 ms, runs with errors: $errs ($(awk -v a="$r" -v b="$rps" 'BEGIN { printf "%.2f", a / b }') x the target-change rate)"
done
echo "promtool: $(fm_metric flowmon_promtool_files_total) rule files checked in $(fm_metric flowmon_promtool_batches_total) batches by $(fm_metric flowmon_promtool_runs_total) processes"
fm_stop
