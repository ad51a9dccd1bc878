# Sourced by the bench scripts that run qemu-img with a LUKS secret.

# QEMU times PBKDF2 against the thread CPU clock, which some sandboxes make
# too coarse ("Unable to get accurate CPU usage"): retry that case only.
qemu_retry() {
	local out
	for _ in $(seq 1 20); do
		if out=$("$@" 2>&1); then return 0; fi
		case $out in *"accurate CPU usage"*) continue ;; esac
		echo "$out" >&2
		return 1
	done
	echo "$out" >&2
	return 1
}
