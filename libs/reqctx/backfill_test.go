package reqctx

import (
	"context"
	"testing"
	"time"
)

func TestNow(t *testing.T) {
	t.Parallel()
	wall := time.Date(2026, 11, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	clock := func() time.Time { return wall }
	past := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)

	if _, ok := Backfill(context.Background()); ok {
		t.Fatal("Backfill on a bare context reported a time")
	}
	if got := Now(context.Background(), clock); !got.Equal(wall) || got.Location() != time.UTC {
		t.Errorf("Now without backfill = %v, want %v in UTC", got, wall)
	}
	ctx := WithBackfill(context.Background(), past.In(time.Local))
	if got, ok := Backfill(ctx); !ok || !got.Equal(past) {
		t.Errorf("Backfill = %v, %v; want %v, true", got, ok, past)
	}
	if got := Now(ctx, clock); !got.Equal(past) || got.Location() != time.UTC {
		t.Errorf("Now with backfill = %v, want %v in UTC", got, past)
	}
	if got := Now(context.Background(), nil); time.Since(got) > time.Minute {
		t.Errorf("Now with nil clock = %v, want the wall clock", got)
	}
}
