//go:build !linux

package disk

import "os"

func nextData(f *os.File, off int64) (data, hole int64, ok bool) { return 0, 0, false }
