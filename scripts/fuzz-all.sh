#!/usr/bin/env bash
# fuzz-all.sh: run every Fuzz target of the module for a while each.
# Targets are found by scanning every package's _test.go files for
# `func FuzzXxx`, so new targets are picked up without editing this script.
# New crashers are written by `go test` under the package's
# testdata/fuzz/FuzzXxx/: commit them, they become regression seeds.
#
#   scripts/fuzz-all.sh                      # 10 s per target (a smoke run)
#   FUZZTIME=10m scripts/fuzz-all.sh         # a long run, e.g. overnight
#   FUZZTIME=1m PKGS=./luks/... scripts/fuzz-all.sh   # one package tree
#   PARALLEL=1 scripts/fuzz-all.sh           # one fuzzing worker per target
#
# FUZZTIME is passed to -fuzztime (a duration, or "Nx" for N executions).
# PARALLEL sets -parallel (fuzzing workers; the default is GOMAXPROCS).
# The script keeps going after a failing target and exits non-zero at the
# end when any target failed, listing them.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME=${FUZZTIME:-10s}
PKGS=${PKGS:-./...}
par=()
if [ -n "${PARALLEL:-}" ]; then par=(-parallel "$PARALLEL"); fi

failed=()
count=0
start=$(date +%s)
for pkg in $(go list $PKGS); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	targets=$(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u || true)
	for target in $targets; do
		count=$((count + 1))
		printf '== %s %s (%s)\n' "$pkg" "$target" "$FUZZTIME"
		if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "${par[@]}" "$pkg"; then
			failed+=("$pkg $target")
		fi
	done
done

printf '\n%d fuzz targets in %ds\n' "$count" $(( $(date +%s) - start ))
if [ ${#failed[@]} -gt 0 ]; then
	printf 'FAILED: %s\n' "${failed[@]}"
	exit 1
fi
