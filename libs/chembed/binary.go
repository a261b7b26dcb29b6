package chembed

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrBinaryNotFound is returned (wrapped) by Start when no ClickHouse server executable can be
// found. Install Debian's package with `apt-get install -y clickhouse-server clickhouse-client`
// (make test does it).
var ErrBinaryNotFound = errors.New("chembed: clickhouse server binary not found")

// Debian installs clickhouse-server in /usr/sbin, which is not on an ordinary user's PATH.
var binaryDirs = []string{"/usr/sbin", "/usr/bin", "/usr/local/bin"}

// command is how to run the server: the executable and the arguments before --config-file.
type command struct {
	path string
	args []string
}

// findBinary resolves Config.Binary (empty: clickhouse-server, then clickhouse).
func findBinary(name string) (command, error) {
	names := []string{"clickhouse-server", "clickhouse"}
	if name != "" {
		names = []string{name}
	}
	for _, n := range names {
		path, ok := lookPath(n)
		if !ok {
			continue
		}
		c := command{path: path}
		if filepath.Base(path) == "clickhouse" {
			c.args = []string{"server"}
		}
		return c, nil
	}
	return command{}, fmt.Errorf("%w (looked for %s in PATH and %s)",
		ErrBinaryNotFound, strings.Join(names, ", "), strings.Join(binaryDirs, ", "))
}

func lookPath(name string) (string, bool) {
	if strings.ContainsRune(name, filepath.Separator) {
		return name, isExecutable(name)
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, true
	}
	for _, d := range binaryDirs {
		if p := filepath.Join(d, name); isExecutable(p) {
			return p, true
		}
	}
	return "", false
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
