#!/usr/bin/env bash
# Streaming upload to a real S3 server (versitygw on loopback) versus the COS
# SDK's s3manager uploading the same bytes from memory, and the peak RSS of
# the streaming process. Targets (issue 5): stream >= 80% of memory
# throughput; peak RSS < part size x (concurrency + 2) + 32 MiB.
#
#   scripts/bench-storage.sh            # 1 GiB object, 3 rounds
#   E2E_BENCH_SIZE=256M ROUNDS=5 scripts/bench-storage.sh
#
# Each round runs the two uploads back to back in fresh processes, so the
# machine's load hits both alike; the verdict uses the median of the
# per-round ratios. Client CPU seconds per upload are shown as well: they
# do not depend on the load.
set -euo pipefail
cd "$(dirname "$0")/.."

export E2E_BENCH_SIZE="${E2E_BENCH_SIZE:-1G}"
rounds="${ROUNDS:-3}"
part_mib=16   # storage.DefaultPartSize
concurrency=4 # storage.DefaultConcurrency

dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
go test -c -o "$dir/storage.test" ./storage/

run() { # $1 = sub-benchmark; prints "MB/s client-cpu-s peak-RSS-MiB"
	"$dir/storage.test" -test.run '^$' -test.bench "BenchmarkUploadVersityGW/$1\$" -test.benchtime 1x |
		awk '/^BenchmarkUploadVersityGW/ { for (i = 1; i < NF; i++) {
			if ($(i+1) == "MB/s") mbs = $i; if ($(i+1) == "client-cpu-s/op") cpu = $i; if ($(i+1) == "peak-RSS-MiB") rss = $i } }
		     END { if (mbs == "") exit 1; print mbs, cpu, rss }'
}

: >"$dir/rounds"
for r in $(seq "$rounds"); do
	read -r s scpu srss < <(run stream)
	read -r m mcpu mrss < <(run memory)
	echo "$s $scpu $srss $m $mcpu $mrss" >>"$dir/rounds"
	printf 'round %d: stream %s MB/s (client CPU %ss, peak RSS %s MiB) | memory %s MB/s (client CPU %ss, peak RSS %s MiB) | %.0f%%\n' \
		"$r" "$s" "$scpu" "$srss" "$m" "$mcpu" "$mrss" "$(awk -v a="$s" -v b="$m" 'BEGIN { print 100 * a / b }')"
done

limit=$((part_mib * (concurrency + 2) + 32))
median=$(awk '{ print 100 * $1 / $4 }' "$dir/rounds" | sort -n |
	awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
awk -v lim="$limit" -v size="$E2E_BENCH_SIZE" -v med="$median" '
	{ s += $1; m += $4; scpu += $2; mcpu += $5; if ($3 > rss) rss = $3 }
	END {
		printf "object %s, %d rounds: stream %.1f MB/s, memory %.1f MB/s (means); median ratio %.0f%% (target >= 80%%) %s\n",
			size, NR, s / NR, m / NR, med, (med >= 80 ? "OK" : "MISSED")
		printf "client CPU per upload: stream %.2f s, memory %.2f s\n", scpu / NR, mcpu / NR
		printf "peak RSS of the streaming process: %.1f MiB (target < %d MiB) %s\n", rss, lim, (rss < lim ? "OK" : "MISSED")
	}' "$dir/rounds"
