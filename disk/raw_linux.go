package disk

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// nextData returns the next data range [data, hole) at or after off of a
// sparse file; data is past the end when only a hole remains. ok is false
// when the file system cannot tell.
func nextData(f *os.File, off int64) (data, hole int64, ok bool) {
	fd := int(f.Fd())
	data, err := unix.Seek(fd, off, unix.SEEK_DATA)
	if errors.Is(err, unix.ENXIO) {
		return 1<<63 - 1, 1<<63 - 1, true
	}
	if err != nil {
		return 0, 0, false
	}
	hole, err = unix.Seek(fd, data, unix.SEEK_HOLE)
	if err != nil {
		return 0, 0, false
	}
	return data, hole, true
}
