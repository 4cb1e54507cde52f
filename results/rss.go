package results

import (
	"fmt"
	"os"
)

// PeakRSS returns the process's peak resident set size in bytes, VmHWM
// from /proc/self/status. It is a high-water mark over the whole life of
// the process and cannot be reset from user space, so a per-stage peak is
// only meaningful for the stage that raised it: a caller that reads it
// after each stage learns which stage set the peak, not what later stages
// used below it. Linux only: other systems get an error.
func PeakRSS() (uint64, error) {
	const path = "/proc/self/status"
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("peak RSS: %w", err)
	}
	defer f.Close()
	n, err := parseKBField(f, "VmHWM")
	if err != nil {
		return 0, fmt.Errorf("peak RSS: %s: %w", path, err)
	}
	return n, nil
}
