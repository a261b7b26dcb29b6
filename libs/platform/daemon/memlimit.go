package daemon

import (
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// cgroupMemoryMax is where cgroup v2 publishes the container's memory limit.
const cgroupMemoryMax = "/sys/fs/cgroup/memory.max"

// goShareOfLimit is the share of the container's memory limit given to the Go runtime as its
// soft limit. The rest is for what the Go runtime does not see: SQLite's page caches (malloc'd
// outside the Go heap, bounded by the read models' cache_size; docs/operations.md#memory) and
// the mapped read-model files.
const goShareOfLimit = 0.75

// setMemoryLimit gives the Go runtime a soft memory limit when the process runs in a container
// with a memory limit and GOMEMLIMIT is not set: without one, the garbage collector lets the
// heap grow to twice the live data (GOGC=100), and a service whose caches have filled can be
// killed for memory it would have collected. It returns the limit set (0 for none).
func setMemoryLimit(logger *slog.Logger, cgroupFile string) int64 {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); ok {
		return 0 // the runtime applied it
	}
	limit := memoryLimitOf(cgroupFile)
	if limit <= 0 {
		return 0
	}
	goLimit := int64(float64(limit) * goShareOfLimit)
	debug.SetMemoryLimit(goLimit)
	logger.Info("Go memory limit set from the container's", "container_bytes", limit, "go_bytes", goLimit)
	return goLimit
}

// memoryLimitOf reads a cgroup v2 memory.max file: the limit in bytes, or 0 when there is none
// ("max") or no such file.
func memoryLimitOf(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}
