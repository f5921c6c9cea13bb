package kurrentdb_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/kurrentdb"
	"github.com/imattertraining/ledger/eventstore/kurrentdb/protocoldouble"
	"github.com/imattertraining/ledger/eventstore/storetest"
)

// benchStore opens the adapter against KURRENTDB_URL when set, else against
// a protocol double (which measures the adapter and gRPC on loopback, not
// KurrentDB).
func benchStore(b *testing.B) *kurrentdb.Store {
	b.Helper()
	url := os.Getenv("KURRENTDB_URL")
	if url == "" {
		srv := protocoldouble.StartTest(b, withSystemEvents)
		url = srv.ConnectionString()
	}
	return openStore(b, url, isolated(kurrentdb.Options{}))
}

// payload256 is a 256-byte event body, the size the Event Store Benchmark
// Suite's write workloads use.
var payload256 = []byte(fmt.Sprintf(`{"practitioner":"Test Practitioner","pad":"%0211d"}`, 0))

func benchEvent() eventstore.EventData {
	return eventstore.EventData{ID: uuid.New(), Type: "CourseCompleted", SchemaVersion: 1, OccurredOn: "2024-05-01", RecordedBy: "admin:bench", Data: payload256}
}

// BenchmarkAppend: concurrent writers, one 256-byte event per append, spread
// over 10,000 streams.
func BenchmarkAppend(b *testing.B) {
	for _, writers := range []int{1, 4, 8} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s := benchStore(b)
			ctx := context.Background()
			var next atomic.Int64
			var mu sync.Mutex
			var lat []time.Duration
			b.ResetTimer()
			var wg sync.WaitGroup
			per := (b.N + writers - 1) / writers
			for range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					mine := make([]time.Duration, 0, per)
					for range per {
						i := next.Add(1)
						if i > int64(b.N) {
							break
						}
						t0 := time.Now()
						if _, err := s.Append(ctx, fmt.Sprintf("practitioner-%d", i%10_000), eventstore.Any(), benchEvent()); err != nil {
							b.Error(err)
							return
						}
						mine = append(mine, time.Since(t0))
					}
					mu.Lock()
					lat = append(lat, mine...)
					mu.Unlock()
				}()
			}
			wg.Wait()
			b.StopTimer()
			storetest.ReportLatencies(b, lat, "")
		})
	}
}

// BenchmarkReadStream reads a 50-event stream whole.
func BenchmarkReadStream(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	evs := make([]eventstore.EventData, 50)
	for i := range evs {
		evs[i] = benchEvent()
	}
	_, err := s.Append(ctx, "practitioner-read", eventstore.NoStream(), evs...)
	require.NoError(b, err)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		got, err := s.ReadStream(ctx, "practitioner-read", eventstore.ReadOptions{})
		if err != nil || len(got) != 50 {
			b.Fatal(len(got), err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	storetest.ReportLatencies(b, lat, "")
}

// BenchmarkReadAll reads 2,000 events in global order; the metric is events
// per second.
func BenchmarkReadAll(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	const total = 2000
	for i := 0; i < total; i += 50 {
		evs := make([]eventstore.EventData, 50)
		for j := range evs {
			evs[j] = benchEvent()
		}
		_, err := s.Append(ctx, fmt.Sprintf("practitioner-%d", i), eventstore.NoStream(), evs...)
		require.NoError(b, err)
	}
	b.ResetTimer()
	for range b.N {
		n := 0
		for _, err := range s.ReadAll(ctx, eventstore.Start) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != total {
			b.Fatalf("read %d events", n)
		}
	}
	b.ReportMetric(float64(total*b.N)/b.Elapsed().Seconds(), "events/s")
}
