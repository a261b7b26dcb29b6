package chembed

import (
	"fmt"
	"os"
	"testing"
)

// Every test here but the configuration checks needs the server binary. Without it the
// package is skipped as a whole, loudly, unless CI is set: CI must not pass by skipping.
func TestMain(m *testing.M) {
	if _, err := findBinary(""); err != nil {
		msg := fmt.Sprintf("chembed: %v\n  install it: apt-get install -y clickhouse-server clickhouse-client (make test does this)\n", err)
		if os.Getenv("CI") != "" {
			fmt.Fprint(os.Stderr, "FAIL: "+msg)
			os.Exit(1)
		}
		fmt.Fprint(os.Stderr, "SKIP: all tests of this package: "+msg)
		os.Exit(0)
	}
	os.Exit(m.Run())
}
