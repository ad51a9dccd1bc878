#!/usr/bin/env bash
# bench-xts.sh: internal/xts against golang.org/x/crypto/xts and
# `openssl speed -evp aes-256-xts`, all pinned to the same core, in MB/s
# (10^6 bytes/s) per core, with the ratio of each Go path to openssl.
# The target (issue 10) is the default path on 4096-byte units >= 50% of
# openssl. AES-256-XTS (64-byte key) throughout.
#
# The machine may be shared: each measurement is repeated ROUNDS times,
# Go and openssl alternating, and the best of each is kept.
#
#   scripts/bench-xts.sh                  # core 0, 3 rounds of 1 s each
#   CORE=1 ROUNDS=5 SECONDS_PER=2 scripts/bench-xts.sh
set -euo pipefail
cd "$(dirname "$0")/.."

CORE=${CORE:-0}
SECONDS_PER=${SECONDS_PER:-1}
ROUNDS=${ROUNDS:-3}
[[ $SECONDS_PER =~ ^[1-9][0-9]*$ && $ROUNDS =~ ^[1-9][0-9]*$ ]] ||
	{ echo "bench-xts: SECONDS_PER and ROUNDS must be positive integers (openssl speed takes whole seconds)" >&2; exit 2; }
command -v openssl >/dev/null || { echo "bench-xts: openssl not installed (apt-get install -y openssl)" >&2; exit 1; }
pin=()
if command -v taskset >/dev/null; then pin=(taskset -c "$CORE"); fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go test -c -o "$tmp/xts.test" ./internal/xts/
default=$("${pin[@]}" "$tmp/xts.test" -test.run '^TestDefaultImpl$' -test.v | sed -n 's/.*default implementation: \([a-z0-9]*\).*/\1/p')
ossl() { # size, extra flags -> MB/s
	"${pin[@]}" openssl speed -mr -seconds "$SECONDS_PER" -bytes "$1" ${2:-} -evp aes-256-xts 2>/dev/null |
		awk -F: '/^\+F:/ {printf "%.0f", $4/1e6}'
}
max() { [ "${1:-0}" -ge "$2" ] && echo "${1:-0}" || echo "$2"; }
o512=0 o4096=0 d4096=0
for ((r = 1; r <= ROUNDS; r++)); do
	"${pin[@]}" "$tmp/xts.test" -test.run '^$' -test.cpu 1 -test.benchtime "${SECONDS_PER}s" \
		-test.bench '^Benchmark(XCrypto)?(Encrypt512|Encrypt4096|Decrypt4096)$' | tee -a "$tmp/go.txt" >&2
	o512=$(max "$o512" "$(ossl 512)")
	o4096=$(max "$o4096" "$(ossl 4096)")
	d4096=$(max "$d4096" "$(ossl 4096 -decrypt)")
done
if [ "$o512" -eq 0 ] || [ "$o4096" -eq 0 ] || [ "$d4096" -eq 0 ]; then
	echo "bench-xts: openssl speed -evp aes-256-xts produced no result" >&2
	exit 1
fi

echo
echo "openssl $(openssl version | awk '{print $2}'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), core $CORE, default path: ${default:-?}, best of $ROUNDS x ${SECONDS_PER}s"
awk -v o512="$o512" -v o4096="$o4096" -v d4096="$d4096" -v def="$default" '
	/^Benchmark/ {
		name = $1; sub(/-[0-9]+$/, "", name); sub(/^Benchmark/, "", name)
		for (i = 2; i <= NF; i++) if ($(i+1) == "MB/s") mbs = $i
		if (!(name in best)) order[n++] = name
		if (mbs > best[name]) best[name] = mbs
	}
	END {
		for (j = 0; j < n; j++) {
			name = order[j]; mbs = best[name]
			split(name, p, "/"); op = p[1]; path = (p[2] == "" ? "-" : p[2])
			if (op ~ /^XCrypto/) { sub(/^XCrypto/, "", op); path = "x/crypto/xts" }
			ref = (op == "Encrypt512" ? o512 : op == "Encrypt4096" ? o4096 : d4096)
			mark = (path == def ? " (default)" : "")
			printf "%-12s %-22s %9.0f MB/s   %5.1f%% of openssl\n", op, path mark, mbs, 100 * mbs / ref
			if (op == "Encrypt4096" && path == def) target = mbs / ref
		}
		printf "%-12s %-22s %9.0f MB/s\n", "Encrypt512", "openssl", o512
		printf "%-12s %-22s %9.0f MB/s\n", "Encrypt4096", "openssl", o4096
		printf "%-12s %-22s %9.0f MB/s\n", "Decrypt4096", "openssl", d4096
		printf "\nratio (default path, 4096-byte units, encrypt) to openssl: %.2f (target >= 0.50): %s\n", target, (target >= 0.5 ? "MET" : "NOT MET")
	}' "$tmp/go.txt"
