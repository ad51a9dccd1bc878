//go:build unix

package sector

import (
	"os"

	"golang.org/x/sys/unix"
)

// appendMode reports whether f was opened with O_APPEND (or cannot tell),
// including descriptors inherited from a shell's >>. SyscallConn keeps f in
// whatever blocking mode it was, unlike Fd.
func appendMode(f *os.File) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return true
	}
	flags := unix.O_APPEND
	if cerr := rc.Control(func(fd uintptr) { flags, err = unix.FcntlInt(fd, unix.F_GETFL, 0) }); cerr != nil {
		return true
	}
	return err != nil || flags&unix.O_APPEND != 0
}
