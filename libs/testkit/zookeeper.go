package testkit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// zookeeperInstallHint is how to get the ZooKeeper the cluster tests need.
const zookeeperInstallHint = "install it with `apt-get install -y zookeeper` (Debian's ZooKeeper 3.8), " +
	"or run `make deps`, which installs it"

// zookeeperJar is Debian's ZooKeeper jar (package zookeeper / libzookeeper-java); its manifest
// names the libraries it needs. EVCRM_ZOOKEEPER_JAR names another one.
const zookeeperJar = "/usr/share/java/zookeeper.jar"

// ZooKeeper is a throwaway standalone ZooKeeper server for tests: Debian's ZooKeeper run with
// java in a temporary directory, on a free loopback port, killed when the test ends.
type ZooKeeper struct {
	addr string
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

// StartZooKeeper starts a ZooKeeper server of the test's own and returns once it serves
// (about a second). Without java or Debian's zookeeper package the test is
// skipped, unless the environment variable CI is set: then it fails.
func StartZooKeeper(t testing.TB) *ZooKeeper {
	t.Helper()
	jar := os.Getenv("EVCRM_ZOOKEEPER_JAR")
	if jar == "" {
		jar = zookeeperJar
	}
	java, err := exec.LookPath("java")
	if err == nil {
		_, err = os.Stat(jar)
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("testkit: ZooKeeper is missing (%v); CI runs the cluster tests, so %s", err, zookeeperInstallHint)
		}
		t.Skipf("testkit: SKIP: no ZooKeeper (%v); %s", err, zookeeperInstallHint)
	}
	dir := t.TempDir()
	addr := FreeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	// Standalone, loopback only, no admin web server (it would take port 8080), the four-letter
	// words the readiness check and a person debugging need, short ticks (a session of a
	// killed ClickHouse expires within its own timeout; the server caps it at 20 ticks), and
	// no fsync of the transaction log: the data is thrown away, and every replicated insert
	// and ON CLUSTER statement writes to ZooKeeper.
	cfg := strings.Join([]string{
		"tickTime=500",
		"dataDir=" + filepath.Join(dir, "data"),
		"clientPort=" + port,
		"clientPortAddress=127.0.0.1",
		"admin.enableServer=false",
		"4lw.commands.whitelist=ruok,srvr,stat,mntr",
		"maxClientCnxns=0",
		"minSessionTimeout=1000",
		"maxSessionTimeout=30000",
		"forceSync=no",
		"",
	}, "\n")
	cfgPath := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "zookeeper.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(java, "-Xmx256m", "-XX:+UseSerialGC", "-Dzookeeper.jmx.log4j.disable=true",
		"-cp", jar, "org.apache.zookeeper.server.ZooKeeperServerMain", cfgPath)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group, so that the kill reaches anything the JVM started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("testkit: start zookeeper: %v", err)
	}
	z := &ZooKeeper{addr: addr, cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() { _ = cmd.Wait(); close(z.done) }()
	t.Cleanup(z.kill)
	if err := z.waitReady(t.Context(), 30*time.Second); err != nil {
		t.Fatalf("testkit: %v", err)
	}
	return z
}

// Addr is the client address, host:port.
func (z *ZooKeeper) Addr() string { return z.addr }

func (z *ZooKeeper) kill() {
	_ = syscall.Kill(-z.cmd.Process.Pid, syscall.SIGKILL)
	<-z.done
}

func (z *ZooKeeper) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		select {
		case <-z.done:
			return fmt.Errorf("zookeeper exited before it was ready:\n%s", tail(z.log, 2000))
		default:
		}
		// "ruok" answers "imok" as soon as the process listens, before the server serves
		// sessions; a ClickHouse connecting then has its handshake cut (and 18.16's DDL worker
		// crashed on that). "srvr" reports the mode once the server serves.
		var reply string
		if reply, last = fourLetterWord(z.addr, "srvr"); last == nil && strings.Contains(reply, "Mode: standalone") {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("zookeeper on %s not ready after %s (last: %q, %v):\n%s", z.addr, timeout, reply, last, tail(z.log, 2000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fourLetterWord sends one of ZooKeeper's four-letter commands and returns the reply.
func fourLetterWord(addr, word string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, word); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, io.EOF) {
		return string(b), err
	}
	return strings.TrimSpace(string(b)), nil
}

// tail returns the last n bytes of a file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
