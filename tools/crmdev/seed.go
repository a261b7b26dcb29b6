package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
)

// Markers of the demo data in the data dir. seededMarker is written only after a seed finished,
// so a start after a failed or interrupted seed seeds again; seedingMarker is written before a
// seed starts and removed after it succeeded, so that start can say the last one did not finish.
const (
	seededMarker  = "demo-seeded"
	seedingMarker = "demo-seeding"
)

// serviceConns are client connections to the four services, by name.
type serviceConns map[string]*grpc.ClientConn

func dialServices(s *settings) (serviceConns, func(), error) {
	conns := serviceConns{}
	closeAll := func() {
		for _, c := range conns {
			c.Close()
		}
	}
	for _, svc := range services {
		c, err := dial(s.Services[svc].GRPC)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("%s: %w", svc, err)
		}
		conns[svc] = c
	}
	return conns, closeAll, nil
}

// seedState is what the markers say about the data dir's demo data.
type seedState struct {
	Seeded      bool
	SeededNote  string // the marker's content: when, and what was seeded
	Interrupted bool   // a seed started and never finished
}

func readSeedState(s *settings) (seedState, error) {
	var st seedState
	b, err := os.ReadFile(s.dataPath(seededMarker))
	switch {
	case err == nil:
		st.Seeded, st.SeededNote = true, strings.TrimSpace(string(b))
	case !errors.Is(err, fs.ErrNotExist):
		return st, err
	}
	if _, err := os.Stat(s.dataPath(seedingMarker)); err == nil {
		st.Interrupted = true
	}
	return st, nil
}

// seedOnce loads the demo data unless the data dir has it already. A failed seed leaves the
// system running (the services are fine, only the demo data is incomplete) and is retried on
// the next start, which says so.
func (sys *system) seedOnce(ctx context.Context, seed seedFunc) {
	s, out := sys.s, sys.out
	st, err := readSeedState(s)
	if err != nil {
		out.Printf("demo data: cannot read the markers in %s: %v; not seeding", s.DataDir, err)
		return
	}
	switch {
	case st.Seeded:
		out.Printf("demo data: already loaded (%s); `make clean` starts over", st.SeededNote)
		return
	case !s.Seed:
		out.Printf("demo data: not loaded (--seed=false)")
		return
	case st.Interrupted:
		out.Printf("demo data: the seed of an earlier start did not finish; seeding again (its idempotency keys keep what it wrote from being written twice)")
	}
	if err := os.WriteFile(s.dataPath(seedingMarker), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o640); err != nil {
		out.Printf("demo data: %v; not seeding", err)
		return
	}
	conns, closeConns, err := dialServices(s)
	if err != nil {
		out.Printf("demo data: %v; not seeding", err)
		return
	}
	defer closeConns()
	out.Printf("demo data: seeding tenant %q with %d leads over a year (seed %d); this takes a while", s.Tenant, s.DemoLeads, s.SeedValue)
	start := time.Now()
	summary, err := seed(ctx, s, conns, out.Writer("demo"))
	if err != nil {
		if ctx.Err() != nil {
			out.Printf("demo data: seeding interrupted; the next start seeds again")
		} else {
			out.Printf("demo data: seeding failed: %v\n"+
				"the services keep running without the rest of the demo data; the next start seeds again", err)
		}
		return
	}
	note := fmt.Sprintf("seeded %s in %s: %s", time.Now().UTC().Format(time.RFC3339), time.Since(start).Round(time.Second), summary)
	if err := os.WriteFile(s.dataPath(seededMarker), []byte(note+"\n"), 0o640); err != nil {
		out.Printf("demo data: seeded, but writing the marker failed (%v): the next start would seed again", err)
		return
	}
	_ = os.Remove(s.dataPath(seedingMarker))
	out.Printf("demo data: %s", note)
}
