package chembed_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/chembed"
)

const helperDirEnv = "CHEMBED_TEST_ORPHAN_DIR"

// TestServerDiesWithParent runs a child test binary that starts a server and exits without
// stopping it, as a test binary does when it panics or is killed; the server must not outlive
// it.
func TestServerDiesWithParent(t *testing.T) {
	if dir := os.Getenv(helperDirEnv); dir != "" {
		srv, err := chembed.Start(t.Context(), chembed.Config{Dir: dir})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("pid:", srv.Pid())
		os.Exit(0) // no Stop
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestServerDiesWithParent$")
	cmd.Env = append(os.Environ(), helperDirEnv+"="+t.TempDir())
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	var pid int
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "pid: "); ok {
			pid, err = strconv.Atoi(p)
			require.NoError(t, err)
		} else {
			t.Log(sc.Text())
		}
	}
	require.NoError(t, cmd.Wait())
	require.NotZero(t, pid)
	require.Eventually(t, func() bool { return !groupAlive(t, pid) }, 15*time.Second, 50*time.Millisecond,
		"clickhouse-server %d outlived its parent", pid)
}
