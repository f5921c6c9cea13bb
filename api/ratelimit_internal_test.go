package api

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkLimiterAllow is the limiter's share of every request with
// limits on: 64 principals taking and paying from their buckets, in
// parallel.
func BenchmarkLimiterAllow(b *testing.B) {
	l := newLimiter(1e9, 1e9, time.Now)
	keys := make([]bucketKey, 64)
	for i := range keys {
		keys[i] = bucketKey{principal: true, name: "p" + strconv.Itoa(i)}
	}
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			k := keys[i%len(keys)]
			if err := l.allow(k); err != nil {
				b.Fatal(err)
			}
			l.charge(k, 20<<10)
			i++
		}
	})
}
