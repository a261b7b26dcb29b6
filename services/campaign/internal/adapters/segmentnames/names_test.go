package segmentnames_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/segmentnames"
)

func TestClaimIsExclusiveIgnoringCaseAndStaleClaimsAreTakenOver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x, err := segmentnames.Open(ctx, testkit.StartNATS(t).JetStream(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	live := map[string]string{} // segment id → its name
	holds := func(_ context.Context, _, id, name string) (bool, bool, error) {
		n, ok := live[id]
		return ok, ok && strings.EqualFold(n, strings.TrimSpace(name)), nil
	}
	if err := x.Claim(ctx, "acme", "VIPs", "s1", holds); err != nil {
		t.Fatal(err)
	}
	live["s1"] = "VIPs"
	if err := x.Claim(ctx, "acme", "VIPs", "s1", holds); err != nil {
		t.Fatalf("reclaim by the holder: %v", err)
	}
	var taken *segmentnames.ErrTaken
	if err := x.Claim(ctx, "acme", " vips", "s2", holds); !errors.As(err, &taken) || taken.SegmentID != "s1" {
		t.Fatalf("claim of a held name = %v", err)
	}
	if err := x.Claim(ctx, "other", "VIPs", "s9", holds); err != nil {
		t.Fatalf("another tenant: %v", err)
	}
	// s3 claimed and never existed: a create in flight.
	if err := x.Claim(ctx, "acme", "fresh", "s3", holds); err != nil {
		t.Fatal(err)
	}
	if err := x.Claim(ctx, "acme", "FRESH", "s4", holds); !errors.Is(err, segmentnames.ErrBusy) {
		t.Fatalf("claim during a create in flight = %v", err)
	}
	// s1 renamed without releasing: its old claim is stale and is taken over.
	live["s1"] = "Renamed"
	if err := x.Claim(ctx, "acme", "vips", "s5", holds); err != nil {
		t.Fatalf("takeover of a stale claim: %v", err)
	}
	x.Release(ctx, "acme", "vips", "s1") // not the holder any more: no effect
	live["s5"] = "vips"
	if err := x.Claim(ctx, "acme", "VIPS", "s6", holds); !errors.As(err, &taken) || taken.SegmentID != "s5" {
		t.Fatalf("after a foreign release = %v", err)
	}
	x.Release(ctx, "acme", "vips", "s5")
	if err := x.Claim(ctx, "acme", "VIPS", "s6", holds); err != nil {
		t.Fatalf("after release: %v", err)
	}
}
