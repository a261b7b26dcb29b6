// Package uuid7 generates UUIDv7 identifiers (RFC 9562) for event ids, record ids and request
// ids without a process-wide lock.
//
// github.com/google/uuid's NewV7 serialises every caller on one mutex (to keep ids monotonic),
// and a service that makes a few ids per command under 64 concurrent requests on two cores
// queues on it: a goroutine preempted while it holds the lock stalls every other one (the
// benchmark of MoveOpportunityStage spent its time parked there). Here the 48-bit millisecond
// timestamp and the 12-bit sub-millisecond counter live in one atomic word advanced with
// compare-and-swap, so ids stay strictly increasing within the process, and the 62 random bits
// come from math/rand/v2's per-thread ChaCha8 generator.
package uuid7

import (
	"encoding/hex"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// last holds the last (unix milliseconds << 12 | counter) handed out.
var last atomic.Uint64

// next returns a (milliseconds, counter) pair strictly greater than every earlier one. When
// more than 4096 ids are made in one millisecond, the clock is borrowed from the next
// millisecond (RFC 9562 §6.2, method 3), so ordering holds.
func next(now time.Time) uint64 {
	ms := uint64(now.UnixMilli()) << 12
	for {
		prev := last.Load()
		v := max(ms, prev+1)
		if last.CompareAndSwap(prev, v) {
			return v
		}
	}
}

// New returns a new UUIDv7 in its canonical 36-character form.
func New() string {
	var b [16]byte
	v := next(time.Now())
	ms, seq := v>>12, v&0xfff
	b[0], b[1], b[2], b[3], b[4], b[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	b[6] = 0x70 | byte(seq>>8) // version 7, counter high bits
	b[7] = byte(seq)
	r := rand.Uint64()
	for i := 8; i < 16; i++ {
		b[i] = byte(r >> (8 * (15 - i)))
	}
	b[8] = b[8]&0x3f | 0x80 // variant 10
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], b[10:16])
	return string(s[:])
}
