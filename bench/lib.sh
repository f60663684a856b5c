# bench/lib.sh: helpers the benchmark scripts share (bench/run.sh,
# bench/scale.sh, bench/plan.sh). Sourced, never run.

# median: the median of the numbers on standard input, one a line ("-"
# when there are none).
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }

now_ns() { date +%s%N; }

# free_port: a loopback port that could be bound just now (as servers
# bind, SO_REUSEADDR), below the kernel's ephemeral range.
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 12000))
		perl -MIO::Socket::INET -e 'exit(IO::Socket::INET->new(LocalAddr =>
		    "127.0.0.1", LocalPort => $ARGV[0], Listen => 1,
		    ReuseAddr => 1) ? 0 : 1)' "$p" && { echo "$p"; return; }
	done
}
