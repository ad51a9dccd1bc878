#!/usr/bin/env bash
# Streaming upload to a real S3 server (versitygw on loopback) versus the COS
# SDK's s3manager uploading the same bytes from memory, and the peak RSS of
# the streaming process. Targets (issue 5): stream >= 80% of memory
# throughput; peak RSS < part size x (concurrency + 2) + 32 MiB.
#
#   scripts/bench-storage.sh            # 1 GiB object, 3 alternating rounds
#   E2E_BENCH_SIZE=256M ROUNDS=5 scripts/bench-storage.sh
#
# The machine's load moves both numbers; rounds alternate the two uploads
# and the best round of each is compared.
set -euo pipefail
cd "$(dirname "$0")/.."

export E2E_BENCH_SIZE="${E2E_BENCH_SIZE:-1G}"
rounds="${ROUNDS:-3}"
part_mib=16 # storage.DefaultPartSize
concurrency=4 # storage.DefaultConcurrency

bin="$(mktemp -d)/storage.test"
trap 'rm -rf "$(dirname "$bin")"' EXIT
go test -c -o "$bin" ./storage/

run() { # $1 = sub-benchmark; prints "MB/s peak-RSS-MiB"
	"$bin" -test.run '^$' -test.bench "BenchmarkUploadVersityGW/$1\$" -test.benchtime 1x |
		awk '/^BenchmarkUploadVersityGW/ { for (i = 1; i <= NF; i++) { if ($(i+1) == "MB/s") mbs = $i; if ($(i+1) == "peak-RSS-MiB") rss = $i } }
		     END { if (mbs == "") exit 1; print mbs, rss }'
}

best_stream=0 best_memory=0 rss_stream=0 rss_memory=0
for r in $(seq "$rounds"); do
	read -r s srss < <(run stream)
	read -r m mrss < <(run memory)
	echo "round $r: stream $s MB/s (peak RSS $srss MiB), memory $m MB/s (peak RSS $mrss MiB)"
	best_stream=$(awk -v a="$best_stream" -v b="$s" 'BEGIN { print (b > a) ? b : a }')
	best_memory=$(awk -v a="$best_memory" -v b="$m" 'BEGIN { print (b > a) ? b : a }')
	rss_stream=$(awk -v a="$rss_stream" -v b="$srss" 'BEGIN { print (b > a) ? b : a }')
	rss_memory=$(awk -v a="$rss_memory" -v b="$mrss" 'BEGIN { print (b > a) ? b : a }')
done

limit=$((part_mib * (concurrency + 2) + 32))
awk -v s="$best_stream" -v m="$best_memory" -v rs="$rss_stream" -v rm="$rss_memory" -v lim="$limit" -v size="$E2E_BENCH_SIZE" 'BEGIN {
	ratio = 100 * s / m
	printf "object %s: stream %.1f MB/s, memory %.1f MB/s: %.0f%% (target >= 80%%) %s\n", size, s, m, ratio, (ratio >= 80 ? "OK" : "MISSED")
	printf "peak RSS: stream %.1f MiB (target < %d MiB) %s; memory baseline %.1f MiB\n", rs, lim, (rs < lim ? "OK" : "MISSED"), rm
}'
