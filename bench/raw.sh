#!/bin/bash
# bench/raw.sh: the disk's own limit for flowmon's write sequence (temp
# write, fsync, rename, fsync of the directory), with 1 and with 8 threads
# in one directory, on the disk of the data dirs. Run by bench/run.sh.
. "$(dirname "$0")/lib.sh"
need cc

cc -O2 -pthread -o "$BENCH_DIR/rawwrite" bench/rawwrite.c
rm -rf "$BENCH_DIR/raw"
mkdir -p "$BENCH_DIR/raw"
echo "disk: $(df -T "$BENCH_DIR" | awk 'NR == 2 { print $1, $2 }'), data under $BENCH_DIR"
raw1=$(for i in $(seq "$RUNS"); do "$BENCH_DIR/rawwrite" "$BENCH_DIR/raw" "$DUR" 1; done | median)
raw8=$(for i in $(seq "$RUNS"); do "$BENCH_DIR/rawwrite" "$BENCH_DIR/raw" "$DUR" 8; done | median)
figure raw1 "$raw1"
echo "raw write sequence, 1 thread:  $raw1 ops/s"
echo "raw write sequence, 8 threads: $raw8 ops/s"
rm -rf "$BENCH_DIR/raw"
