package grpcserver

import (
	"container/list"
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/evcrm/evcrm/libs/platform/grpcerr"
	"github.com/evcrm/evcrm/libs/reqctx"
)

// ReasonRateLimited is the ErrorInfo reason of a call refused by the per-principal rate limit.
const ReasonRateLimited = "RATE_LIMITED"

// DefaultMaxRequestBytes is the largest request message a server accepts unless
// Options.MaxRequestBytes says otherwise. It is gRPC's own default, kept explicit: the largest
// requests evcrm takes are import chunks (at most 1 MiB each, leads' MaxChunkBytes) and response
// batches, which clients stream in several messages when they are bigger.
const DefaultMaxRequestBytes = 4 << 20

// maxLimiters bounds how many principals' token buckets a server keeps. Beyond it the least
// recently seen principal's bucket is dropped (that principal starts again with a full burst),
// so a flood of distinct tokens costs bounded memory rather than an ever-growing map.
const maxLimiters = 1 << 16

// RateLimit is a per-principal token bucket: Rate calls per second on average, Burst at once.
type RateLimit struct {
	// Rate is the sustained number of calls per second each principal may make; 0 turns the
	// limit off.
	Rate float64
	// Burst is how many calls a principal may make at once; 0 means max(1, ceil(Rate)).
	Burst int
}

// limiters holds one token bucket per principal (tenant and subject), least recently used first
// out. A bucket idle long enough to have refilled completely is dropped as it is passed over:
// a fresh one would behave exactly alike, so dropping it loses nothing.
type limiters struct {
	rate  float64
	burst int
	idle  time.Duration // time a bucket needs to refill from empty
	now   func() time.Time
	max   int

	mu    sync.Mutex
	lru   *list.List // of *bucket, most recently used at the front
	byKey map[string]*list.Element
}

type bucket struct {
	key  string
	lim  *rate.Limiter
	last time.Time
}

func newLimiters(rl RateLimit, now func() time.Time) *limiters {
	burst := rl.Burst
	if burst <= 0 {
		burst = max(1, int(math.Ceil(rl.Rate)))
	}
	return &limiters{
		rate: rl.Rate, burst: burst, now: now, max: maxLimiters,
		idle:  time.Duration(float64(burst) / rl.Rate * float64(time.Second)),
		lru:   list.New(),
		byKey: map[string]*list.Element{},
	}
}

// take spends one token of key's bucket; when none is left it returns how long until one is.
func (l *limiters) take(key string) (ok bool, retry time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	var b *bucket
	if el, found := l.byKey[key]; found {
		b = el.Value.(*bucket)
		l.lru.MoveToFront(el)
	} else {
		b = &bucket{key: key, lim: rate.NewLimiter(rate.Limit(l.rate), l.burst)}
		l.byKey[key] = l.lru.PushFront(b)
		for l.lru.Len() > l.max {
			l.drop(l.lru.Back())
		}
	}
	b.last = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		// Refused calls spend nothing, so a client that backs off as told gets through.
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep drops the least recently used buckets that have been idle long enough to be full again.
func (l *limiters) sweep(now time.Time) {
	for el := l.lru.Back(); el != nil; el = l.lru.Back() {
		if now.Sub(el.Value.(*bucket).last) < l.idle {
			return
		}
		l.drop(el)
	}
}

func (l *limiters) drop(el *list.Element) {
	l.lru.Remove(el)
	delete(l.byKey, el.Value.(*bucket).key)
}

// size is the number of buckets held (tests).
func (l *limiters) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// check refuses the call when the principal in ctx has used up its bucket. Calls without a
// principal are the exempt methods (health, reflection): authentication refused every other one.
func (l *limiters) check(ctx context.Context) error {
	tenant, _ := reqctx.Tenant(ctx)
	actor := reqctx.ActorFrom(ctx).ID
	if tenant == "" && actor == "" {
		return nil
	}
	ok, retry := l.take(tenant + "\x00" + actor)
	if ok {
		return nil
	}
	st := status.New(codes.ResourceExhausted, "rate limit exceeded, retry in "+retry.Round(time.Millisecond).String())
	if d, err := st.WithDetails(
		&errdetails.ErrorInfo{Reason: ReasonRateLimited, Domain: grpcerr.Domain},
		&errdetails.RetryInfo{RetryDelay: durationpb.New(retry)},
	); err == nil {
		st = d
	}
	return st.Err()
}

func rateLimitUnary(l *limiters, exempt func(string) bool) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if l != nil && !exempt(info.FullMethod) {
			if err := l.check(ctx); err != nil {
				return nil, err
			}
		}
		return handler(ctx, req)
	}
}

// rateLimitStream counts a stream as one call when it opens; the messages of a stream are bounded
// by the handlers (import size, batch counts), not by the rate limit.
func rateLimitStream(l *limiters, exempt func(string) bool) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if l != nil && !exempt(info.FullMethod) {
			if err := l.check(ss.Context()); err != nil {
				return err
			}
		}
		return handler(srv, ss)
	}
}
