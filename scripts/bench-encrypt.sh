#!/usr/bin/env bash
# bench-encrypt.sh — `e2eimage encrypt` against its qemu-img equivalent, for
# each output format, on the same 1 GiB inputs in the same run, and
# `e2eimage decrypt` of our output; prints a Markdown table.
#
#   luks1  e2eimage encrypt --format luks1 --iter-time 10ms
#          qemu-img convert -O luks -o key-secret=s0,iter-time=10
#   qcow2  e2eimage encrypt --format qcow2 --iter-time 10ms
#          qemu-img convert -O qcow2 -o encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10
#   vhd    e2eimage encrypt --format vhd (blktap AES-XTS, IBM classic)
#          qemu-img convert -O vpc -o subformat=dynamic: qemu has no
#          encrypted VHD, so this peer only copies (plain VHD, no cipher)
#
# Two inputs: "mixed" (1 MiB chunks, half of them zeros, as a real disk
# has free space; explicit zeros, not holes) and "random" (no zeros at all).
# Each command runs ROUNDS times, ours and qemu's alternating which goes
# first; the table shows the median. Every output is checked: ours is read
# back by qemu-img (luks1, qcow2) and by our decrypt, qemu's by our decrypt
# (luks1, qcow2) or qemu-img compare (vhd). A failed check exits non-zero.
# Result is PASS when ours is at least TARGET times faster than qemu-img and
# decrypting is no slower than encrypting (10% allowance for noise).
#
# The "write floor" is the time `dd` takes just to write a fresh file as
# large as our output, from /dev/zero, on the same file system: no program
# that writes that output can be faster (on tmpfs every write allocates
# pages under the file's lock, so more threads do not help). peer / floor
# is then the highest ratio any encryptor could reach here, and
# floor / ours how close we come to it.
#
# Usage: scripts/bench-encrypt.sh                    (1 GiB on /dev/shm, 3 rounds)
#        SIZE_MIB=128 ROUNDS=1 scripts/bench-encrypt.sh   (quick smoke run)
# Needs qemu-img (apt-get install -y qemu-utils) and about 6 GiB free on
# $TMPDIR_BENCH (default /dev/shm). Run it with `nice` on a shared machine.
set -euo pipefail

SIZE_MIB=${SIZE_MIB:-1024}
ROUNDS=${ROUNDS:-3}
TARGET=${TARGET:-15}
TMP=${TMPDIR_BENCH:-/dev/shm}
FORMATS=${FORMATS:-luks1 qcow2 vhd}
INPUTS=${INPUTS:-mixed random}
cd "$(dirname "$0")/.."

for tool in qemu-img go cmp awk /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench-encrypt: $tool is required (apt-get install -y qemu-utils time)" >&2; exit 1; }
done

dir=$(mktemp -d "$TMP/bench-encrypt.XXXXXX")
trap 'rm -rf "$dir"' EXIT
go build -o "$dir/e2eimage" ./cmd/e2eimage
e2e=$dir/e2eimage
printf 'bench-encrypt-passphrase' >"$dir/pass"
head -c 64 /dev/urandom >"$dir/key"

# make_input NAME: 1 MiB chunks, random or (for "mixed", half of them, at
# random) zeros; a 16 MiB random block stamped with the chunk number keeps
# every data chunk distinct without reading GiBs of /dev/urandom.
make_input() {
	local name=$1 out=$dir/$1.raw i
	head -c $((16 << 20)) /dev/urandom >"$dir/block"
	RANDOM=42
	for ((i = 0; i < SIZE_MIB; i++)); do
		if [ "$name" = mixed ] && ((RANDOM % 2)); then
			head -c $((1 << 20)) /dev/zero
		else
			printf '%016d' "$i"
			dd if="$dir/block" iflag=skip_bytes,count_bytes skip=$(((i % 16) << 20)) count=$(((1 << 20) - 16)) status=none
		fi
	done >"$out"
	rm "$dir/block"
	[ "$(stat -c %s "$out")" -eq $((SIZE_MIB << 20)) ] || { echo "bench-encrypt: $out has the wrong size" >&2; exit 1; }
}

. scripts/qemu-retry.sh

# "wall cpu" seconds of a command: wall from EPOCHREALTIME (bash 5), CPU
# (user + system, all threads) from GNU time. CPU time shows the work done
# whatever else runs on the machine; wall time is what the targets count.
timeit() {
	local s=$EPOCHREALTIME
	/usr/bin/time -f '%U %S' -o "$dir/t.cpu" bash -c '"$@"' timeit "$@" >/dev/null
	local e=$EPOCHREALTIME
	read -r u k <"$dir/t.cpu"
	awk -v a="$s" -v b="$e" -v u="$u" -v k="$k" 'BEGIN { printf "%.3f %.2f\n", b - a, u + k }'
}

ours() { # FORMAT IN OUT
	case $1 in
	vhd) "$e2e" encrypt --format vhd --in "$2" --out "$3" --key-file "$dir/key" ;;
	*) "$e2e" encrypt --format "$1" --iter-time 10ms --in "$2" --out "$3" --passphrase-file "$dir/pass" ;;
	esac
}

qemu() { # FORMAT IN OUT
	rm -f "$3"
	case $1 in
	luks1) qemu_retry qemu-img convert -f raw -O luks --object "secret,id=s0,file=$dir/pass" \
		-o key-secret=s0,iter-time=10 "$2" "$3" ;;
	qcow2) qemu_retry qemu-img convert -f raw -O qcow2 --object "secret,id=s0,file=$dir/pass" \
		-o encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10 "$2" "$3" ;;
	vhd) qemu-img convert -f raw -O vpc -o subformat=dynamic "$2" "$3" ;;
	esac
}

decrypt() { # FORMAT IN OUT
	case $1 in
	vhd) "$e2e" decrypt --in "$2" --out "$3" --key-file "$dir/key" ;;
	*) "$e2e" decrypt --in "$2" --out "$3" --passphrase-file "$dir/pass" ;;
	esac
}

# check FORMAT INPUT: ours read back by qemu-img and by our decrypt, qemu's
# by our decrypt or qemu-img compare; any difference aborts the script.
check() {
	local f=$1 in=$dir/$2.raw
	case $f in
	luks1) qemu_retry qemu-img convert --object "secret,id=s0,file=$dir/pass" \
		--image-opts "driver=luks,key-secret=s0,file.filename=$dir/ours.$f" -O raw "$dir/back.raw" ;;
	qcow2) qemu_retry qemu-img convert --object "secret,id=s0,file=$dir/pass" \
		--image-opts "driver=qcow2,encrypt.key-secret=s0,file.filename=$dir/ours.$f" -O raw "$dir/back.raw" ;;
	esac
	if [ -f "$dir/back.raw" ]; then
		cmp "$in" "$dir/back.raw" || { echo "bench-encrypt: qemu-img reads our $f differently" >&2; exit 1; }
		rm "$dir/back.raw"
	fi
	cmp "$in" "$dir/dec.raw" || { echo "bench-encrypt: our decrypt of our $f differs" >&2; exit 1; }
	case $f in
	vhd) qemu-img compare -q -f raw -F vpc "$in" "$dir/qemu.$f" || { echo "bench-encrypt: qemu's vpc differs" >&2; exit 1; } ;;
	*) decrypt "$f" "$dir/qemu.$f" - | cmp - "$in" || { echo "bench-encrypt: our decrypt of qemu's $f differs" >&2; exit 1; } ;;
	esac
}

# floor SIZE OUT: write SIZE bytes of zeros to a fresh file (see above).
floor() {
	rm -f "$2"
	dd if=/dev/zero of="$2" bs=4M count="$1" iflag=count_bytes status=none
}

# timeit runs the functions in a child bash, under GNU time
export -f ours qemu decrypt qemu_retry floor
export e2e dir

# medians of the wall and CPU columns of a timing file
medians() { # FILE -> "wall cpu"
	echo "$(awk '{ print $1 }' "$1" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')" \
		"$(awk '{ print $2 }' "$1" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
}

echo "bench-encrypt: ${SIZE_MIB} MiB inputs on $TMP, $(nproc) CPUs, $ROUNDS rounds, $(qemu-img --version | head -1)"
rows=()
for input in $INPUTS; do
	make_input "$input"
	for f in $FORMATS; do
		: >"$dir/t.ours"
		: >"$dir/t.qemu"
		: >"$dir/t.dec"
		: >"$dir/t.floor"
		for ((r = 0; r < ROUNDS; r++)); do
			rm -f "$dir/ours.$f" "$dir/qemu.$f" "$dir/dec.raw"
			if ((r % 2 == 0)); then
				timeit ours "$f" "$dir/$input.raw" "$dir/ours.$f" >>"$dir/t.ours"
				timeit qemu "$f" "$dir/$input.raw" "$dir/qemu.$f" >>"$dir/t.qemu"
			else
				timeit qemu "$f" "$dir/$input.raw" "$dir/qemu.$f" >>"$dir/t.qemu"
				timeit ours "$f" "$dir/$input.raw" "$dir/ours.$f" >>"$dir/t.ours"
			fi
			timeit decrypt "$f" "$dir/ours.$f" "$dir/dec.raw" >>"$dir/t.dec"
			timeit floor "$(stat -c %s "$dir/ours.$f")" "$dir/floor" >>"$dir/t.floor"
			rm -f "$dir/floor"
		done
		check "$f" "$input"
		read -r o oc < <(medians "$dir/t.ours")
		read -r q qc < <(medians "$dir/t.qemu")
		read -r d dc < <(medians "$dir/t.dec")
		read -r fl _ < <(medians "$dir/t.floor")
		peer="qemu-img -O luks"
		case $f in
		qcow2) peer="qemu-img -O qcow2 (LUKS)" ;;
		vhd) peer="qemu-img -O vpc (plain, no cipher)" ;;
		esac
		rows+=("$(awk -v f="$f" -v inp="$input" -v p="$peer" -v o="$o" -v q="$q" -v d="$d" -v oc="$oc" -v qc="$qc" -v dc="$dc" -v fl="$fl" -v t="$TARGET" -v mib="$SIZE_MIB" 'BEGIN {
			ratio = q / o
			res = "PASS"
			if (ratio < t) res = sprintf("FAIL (ratio < %d; ceiling %.1fx)", t, q / fl)
			if (f == "vhd") res = "n/a (no encrypted peer)"
			if (d > o * 1.1) res = res == "PASS" ? "FAIL (decrypt slower)" : res ", decrypt slower"
			printf "| %s | %s | %.2f s (%.0f MiB/s), CPU %.2f s | %s | %.2f s, CPU %.2f s | %.1fx | %.2f s | %.1fx | %.0f%% | %.2f s, CPU %.2f s | %s |", f, inp, o, mib / o, oc, p, q, qc, ratio, fl, q / fl, 100 * fl / o, d, dc, res
		}')")
		rm -f "$dir/ours.$f" "$dir/qemu.$f" "$dir/dec.raw"
	done
	rm -f "$dir/$input.raw"
done

echo
echo "| format | input | e2eimage encrypt | peer | peer time | ratio (wall) | write floor | ceiling (peer / floor) | floor / ours | e2eimage decrypt | result (target ${TARGET}x) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "Medians of $ROUNDS rounds (wall; CPU = user + system of all threads); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
echo "Every output verified: qemu-img reads ours, we read qemu's, our decrypt gives the input back."
echo "Write floor: dd writing a fresh file of our output's size from /dev/zero, same file system, same rounds."
