#!/usr/bin/env bash
# Compare disk.WriteQCOW2LUKS / WriteEncryptedVHD with qemu-img on the same
# input. Usage: scripts/bench-disk.sh [SIZE_MIB (default 1024)] [DENSE_PERCENT (default 50)]
# The input is a raw image whose first DENSE_PERCENT is random data, the rest
# zeros. Both sides write to a file in the same temporary directory (qemu-img
# cannot write to a pipe); ours also to io.Discard via the Go benchmark, and
# to a tmpfs file in one pass (BenchmarkOnePassFile).
set -euo pipefail
size_mib=${1:-1024}
dense=${2:-50}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

in=$tmp/in.raw
truncate -s "${size_mib}M" "$in"
head -c "$((size_mib * dense / 100))M" /dev/urandom | dd of="$in" conv=notrunc status=none
printf 'bench passphrase' >"$tmp/pass"

echo "input: ${size_mib} MiB raw, ${dense}% random data"

. scripts/qemu-retry.sh
start=$(date +%s.%N)
qemu_retry qemu-img convert -f raw -O qcow2 --object secret,id=s0,file="$tmp/pass" \
	-o encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10 "$in" "$tmp/qemu.qcow2"
end=$(date +%s.%N)
echo "qemu-img convert -O qcow2 -o encrypt.format=luks: $(echo "$end - $start" | bc) s ($(echo "scale=0; $size_mib / ($end - $start)" | bc) MiB/s, includes QEMU's ~0.5 s PBKDF2 calibration)"

E2E_BENCH_DISK=$in go test -run '^$' -bench 'BenchmarkFile' -benchtime 2x ./disk | grep -E '^Benchmark'

# The one-pass writer (regular-file outputs) as `e2eimage encrypt --format
# qcow2 --iter-time 10ms` runs it, by worker count, writing to
# TMPDIR_BENCH (default /dev/shm: a tmpfs measures the writer, not a disk).
E2E_BENCH_DISK=$in E2E_BENCH_DIR=${TMPDIR_BENCH:-/dev/shm} go test -run '^$' -bench 'BenchmarkOnePassFile' -benchtime 3x ./disk | grep -E '^Benchmark'
