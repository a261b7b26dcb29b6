package testkit

import (
	"flag"
	"os"
	"strconv"
)

// soakFlag lets a fault test run longer for nightly use: go test ./pkg/ -run TestFault -args -soak.
// Every test binary that imports testkit knows the flag, so it can be passed to any of them.
var soakFlag = flag.Bool("soak", false, "run the fault tests with soak-sized load (also EVCRM_SOAK=1)")

// SoakEnv is the environment variable that turns soak mode on; unlike the -soak flag it also
// reaches every package of a multi-package go test run.
const SoakEnv = "EVCRM_SOAK"

// Soak reports whether fault tests should run with their soak-sized load and duration (the -soak
// test flag or EVCRM_SOAK=1) rather than the bounded default of the regular test run. Call it
// from a test, after flags are parsed.
func Soak() bool {
	if *soakFlag {
		return true
	}
	on, _ := strconv.ParseBool(os.Getenv(SoakEnv))
	return on
}
