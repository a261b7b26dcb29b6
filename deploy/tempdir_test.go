package deploy

import (
	"os"
	"testing"
)

// tempDirNoCleanup is a directory for the binaries shared by every test of the run; TestMain
// removes it.
func tempDirNoCleanup() (string, error) { return os.MkdirTemp("", "evcrm-deploy-bin-") }

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}
