package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/evcrm/evcrm/libs/chembed"
)

// clickHouseBinaries are the names chembed looks for, in the directories where Debian installs
// them (a non-root PATH often lacks /usr/sbin).
var (
	clickHouseBinaries = []string{"clickhouse-server", "clickhouse"}
	clickHouseDirs     = []string{"/usr/sbin", "/usr/bin", "/usr/local/bin"}
)

// haveClickHouse reports whether a server binary is there: the one named by --clickhouse-binary,
// or one of the usual names.
func haveClickHouse(binary string) bool {
	names := clickHouseBinaries
	if binary != "" {
		if strings.ContainsRune(binary, filepath.Separator) {
			return isExecutable(binary)
		}
		names = []string{binary}
	}
	for _, n := range names {
		if _, err := exec.LookPath(n); err == nil {
			return true
		}
		for _, d := range clickHouseDirs {
			if isExecutable(filepath.Join(d, n)) {
				return true
			}
		}
	}
	return false
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// ensureClickHouse installs Debian's clickhouse-server and clickhouse-client when no server
// binary is found and apt-get is available (through sudo when not root), the way `make deps`
// does; otherwise it says what to do instead.
func ensureClickHouse(ctx context.Context, binary string, out *console) error {
	if haveClickHouse(binary) {
		return nil
	}
	if binary != "" {
		return fmt.Errorf("ClickHouse server %q (--clickhouse-binary) not found or not executable", binary)
	}
	manual := "install clickhouse-server (18.16 or later) by hand, or point --clickhouse-addr (EVCRM_CLICKHOUSE_ADDR) at a running ClickHouse"
	aptGet, err := exec.LookPath("apt-get")
	if err != nil {
		return fmt.Errorf("ClickHouse is not installed and apt-get is not available: %s", manual)
	}
	var prefix []string
	if os.Geteuid() != 0 {
		sudo, err := exec.LookPath("sudo")
		if err != nil {
			return fmt.Errorf("ClickHouse is not installed, and installing it with apt-get needs root or sudo (not found): run as root, or %s", manual)
		}
		prefix = []string{sudo}
	}
	out.Printf("ClickHouse is not installed: installing Debian's clickhouse-server and clickhouse-client with apt-get%s",
		map[bool]string{true: " (sudo may ask for your password)", false: ""}[len(prefix) > 0])
	log := out.Writer("apt")
	defer log.Close()
	for _, args := range [][]string{
		{aptGet, "update", "-qq"},
		{aptGet, "install", "-y", "-qq", "clickhouse-server", "clickhouse-client"},
	} {
		argv := append(append(append([]string{}, prefix...), "env", "DEBIAN_FRONTEND=noninteractive"), args...)
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Stdout = log
		cmd.Stderr = log
		cmd.Stdin = os.Stdin // sudo may ask for a password
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s failed: %w; %s", strings.Join(argv, " "), err, manual)
		}
	}
	if !haveClickHouse(binary) {
		return fmt.Errorf("apt-get installed clickhouse-server but no server binary was found; %s", manual)
	}
	out.Printf("ClickHouse installed")
	return nil
}

// startClickHouse starts the embedded server in <data-dir>/clickhouse on the configured ports,
// with the local analyst user.
func startClickHouse(ctx context.Context, s *settings) (*chembed.Server, error) {
	_, tcp, _ := splitAddr(s.ClickHouseNative)
	host, http, _ := splitAddr(s.ClickHouseHTTP)
	srv, err := chembed.Start(ctx, chembed.Config{
		Dir:      s.dataPath("clickhouse"),
		Host:     host,
		TCPPort:  tcp,
		HTTPPort: http,
		Binary:   s.ClickHouseBinary,
		// A data dir with a year of demo data loads its table metadata before it listens.
		ReadyTimeout: s.ReadyTimeout,
		StopTimeout:  s.StopTimeout,
		LogLevel:     "warning",
		Users:        []chembed.User{{Name: analystUser, Password: analystPassword, Readonly: 2}},
	})
	if errors.Is(err, chembed.ErrBinaryNotFound) {
		return nil, fmt.Errorf("%w; install clickhouse-server or point --clickhouse-addr at a running ClickHouse", err)
	}
	return srv, err
}

// stopClickHouse stops the embedded server and says what went wrong, if anything.
func stopClickHouse(srv *chembed.Server, out *console) {
	start := time.Now()
	if err := srv.Stop(); err != nil {
		out.Printf("ClickHouse: %v", err)
		return
	}
	out.Printf("ClickHouse stopped (%s)", time.Since(start).Round(100*time.Millisecond))
}
