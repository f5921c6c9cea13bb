package api

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter holds one token bucket per principal (or per client address for
// requests without a valid token). Safe for concurrent use.
type limiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	l    *rate.Limiter
	seen time.Time
}

// maxBuckets bounds the map against a flood of distinct client addresses:
// when reached, buckets idle long enough to be full again are dropped.
const maxBuckets = 10_000

func newLimiter(limit rate.Limit, burst int, now func() time.Time) *limiter {
	if burst <= 0 {
		burst = max(1, int(math.Ceil(float64(limit))))
	}
	return &limiter{limit: limit, burst: burst, now: now, buckets: make(map[string]*bucket)}
}

// enabled reports whether requests are limited at all.
func (l *limiter) enabled() bool { return l.limit > 0 }

// allow takes one token from key's bucket, or returns a *rateLimitError
// saying how long to wait. A zero limit allows everything.
func (l *limiter) allow(key string) error {
	if l.limit <= 0 {
		return nil
	}
	now := l.now()
	l.mu.Lock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.prune(now)
		}
		b = &bucket{l: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	l.mu.Unlock()
	res := b.l.ReserveN(now, 1)
	delay := res.DelayFrom(now)
	if delay == 0 {
		return nil
	}
	res.CancelAt(now)
	return &rateLimitError{seconds: int(math.Ceil(delay.Seconds()))}
}

// prune drops buckets idle for longer than it takes to refill. Callers hold mu.
func (l *limiter) prune(now time.Time) {
	full := time.Duration(float64(l.burst)/float64(l.limit)*float64(time.Second)) + time.Second
	for k, b := range l.buckets {
		if now.Sub(b.seen) > full {
			delete(l.buckets, k)
		}
	}
}
