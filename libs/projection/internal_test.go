package projection

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
)

func batch(stream string, seqs ...uint64) []*delivery {
	ds := make([]*delivery, len(seqs))
	for i, s := range seqs {
		ds[i] = &delivery{Event: Event{Stream: stream, Sequence: s}}
	}
	return ds
}

func TestPoisonReasons(t *testing.T) {
	t.Parallel()
	ds := batch("S", 1, 2, 3)
	ev := func(seq uint64) Event { return Event{Stream: "S", Sequence: seq} }
	tests := []struct {
		name string
		err  error
		want map[uint64]string
	}{
		{"plain error", errors.New("boom"), map[uint64]string{}},
		{"one", Poison(ev(2), "bad"), map[uint64]string{2: "bad"}},
		{"wrapped", fmt.Errorf("apply: %w", Poison(ev(3), "x")), map[uint64]string{3: "x"}},
		{"joined", errors.Join(Poison(ev(1), "a"), fmt.Errorf("w: %w", Poison(ev(3), "c"))), map[uint64]string{1: "a", 3: "c"}},
		{"not in batch", Poison(ev(9), "a"), map[uint64]string{}},
		{"other stream", Poison(Event{Stream: "T", Sequence: 1}, "a"), map[uint64]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, poisonReasons(tt.err, ds))
		})
	}
}

func TestGroupByAttempt(t *testing.T) {
	t.Parallel()
	mk := func(deliveries ...uint64) []*delivery {
		ds := make([]*delivery, len(deliveries))
		for i, d := range deliveries {
			ds[i] = &delivery{Event: Event{Sequence: uint64(i + 1), Deliveries: d}}
		}
		return ds
	}
	sizes := func(gs [][]*delivery) []int {
		out := []int{}
		for _, g := range gs {
			out = append(out, len(g))
		}
		return out
	}
	tests := []struct {
		name       string
		deliveries []uint64
		want       []int
	}{
		{"all fresh", []uint64{1, 1, 1}, []int{3}},
		{"last attempts alone", []uint64{3, 3}, []int{1, 1}},
		{"mixed", []uint64{1, 2, 3, 1, 1, 3}, []int{2, 1, 2, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, sizes(groupByAttempt(mk(tt.deliveries...), 3)))
		})
	}
}

func TestBackoffRepeatsLastEntry(t *testing.T) {
	t.Parallel()
	c := Config{Backoff: []time.Duration{time.Second, 2 * time.Second}}
	for attempt, want := range map[uint64]time.Duration{0: time.Second, 1: time.Second, 2: 2 * time.Second, 9: 2 * time.Second} {
		require.Equal(t, want, c.backoff(attempt), "attempt %d", attempt)
	}
}

func TestDecodeEnvelope(t *testing.T) {
	t.Parallel()
	good, err := proto.Marshal(&eventsv1.Envelope{EventId: "e1", EventType: "crm.leads.v1.LeadCreated"})
	require.NoError(t, err)
	noType, err := proto.Marshal(&eventsv1.Envelope{EventId: "e1"})
	require.NoError(t, err)
	tests := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"valid", good, true},
		{"empty body", nil, false},
		{"garbage", []byte("\xff\xff\xff"), false},
		{"missing event type", noType, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env, err := decodeEnvelope(tt.data)
			if tt.ok {
				require.NoError(t, err)
				require.Equal(t, "e1", env.GetEventId())
			} else {
				require.Error(t, err)
			}
		})
	}
}

func TestOneLine(t *testing.T) {
	t.Parallel()
	require.Equal(t, "a b  c", oneLine("a\nb\r\nc"))
	require.Len(t, oneLine(strings.Repeat("x", 5000)), maxReasonLen)
}
