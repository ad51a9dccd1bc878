//go:build !unix

package sector

import "os"

// appendMode cannot tell O_APPEND apart here, so pwrite is not used.
func appendMode(*os.File) bool { return true }
