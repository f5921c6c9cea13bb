package checkpoint_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/bolt"
	"github.com/imattertraining/ledger/eventstore/checkpoint"
)

// benchSize is the benchmark store's shape: LEDGER_BENCH_STREAMS streams
// (default 100,000) of 10 events each, 256-byte payloads.
func benchSize() (streams, perStream int) {
	streams = 100_000
	if v, err := strconv.Atoi(os.Getenv("LEDGER_BENCH_STREAMS")); err == nil && v > 0 {
		streams = v
	}
	return streams, 10
}

// benchStore builds the benchmark store once per process, with 8 writers
// appending each stream's 10 events in one append.
func benchStore(b *testing.B) *bolt.Store {
	b.Helper()
	dir, err := os.MkdirTemp("", "checkpoint-bench-*")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	s, err := bolt.Open(filepath.Join(dir, "events.db"), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	streams, per := benchSize()
	payload := []byte(fmt.Sprintf(`{"course":"foundation_b","notes":%q}`, string(make([]byte, 200))))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < streams; i += 8 {
				evs := make([]eventstore.EventData, per)
				for j := range evs {
					evs[j] = eventstore.EventData{ID: uuid.New(), Type: "CourseCompleted", OccurredOn: "2024-03-01",
						RecordedBy: "admin:Bench Administrator", Data: payload}
				}
				if _, err := s.Append(b.Context(), fmt.Sprintf("practitioner-%08d", i), eventstore.NoStream(), evs...); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkCheckpoint measures, on one store of 100,000 streams (1,000,000
// events): taking a checkpoint (the heads from the store's index, sorted,
// their Merkle root, the signature), the same reading every event instead
// (as on KurrentDB), writing its file, opening it (parse, root,
// signature), and checking the store against it (every chain recomputed).
func BenchmarkCheckpoint(b *testing.B) {
	s := benchStore(b)
	key, err := checkpoint.LoadOrCreateKey(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	c, err := checkpoint.Take(b.Context(), s, key, now)
	if err != nil {
		b.Fatal(err)
	}
	file := c.Marshal()
	b.Run("take", func(b *testing.B) {
		for b.Loop() {
			if _, err := checkpoint.Take(b.Context(), s, key, now); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(c.Statement.Streams), "streams")
	})
	b.Run("take-reading-every-event", func(b *testing.B) {
		for b.Loop() {
			if _, err := checkpoint.Take(b.Context(), readAllOnly{s}, key, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("marshal", func(b *testing.B) {
		for b.Loop() {
			c.Marshal()
		}
		b.ReportMetric(float64(len(file)), "file_bytes")
	})
	b.Run("open", func(b *testing.B) {
		for b.Loop() {
			if _, err := checkpoint.Open(file, pub(key)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("against", func(b *testing.B) {
		for b.Loop() {
			rep, err := checkpoint.Against(b.Context(), s, c)
			if err != nil || !rep.OK {
				b.Fatal(err, rep.Differences)
			}
		}
	})
}
