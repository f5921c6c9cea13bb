package bolt_test

// Benchmarks whose workload shapes come from the Event Store Benchmark Suite
// (github.com/pyeventsourcing/eventstore-benchmarks): 256-byte events over
// 10,000 streams chosen uniformly with a fixed seed, durable appends, 4
// readers of whole streams over a pre-filled store, and a subscriber catching
// up while writers continue. Each reports throughput with p50/p95/p99/p99.9
// latencies, and every append benchmark measures the raw fsync rate of its
// own directory in the same run (before and after the appends, the mean of
// the two), so that appends read as a multiple of what the disk can sync
// (x_fsync).
//
//	go test -run '^$' -bench . -benchtime 2s ./eventstore/bolt/
//
// -short builds the read fixture with 100,000 events instead of 1,000,000.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/bolt"
	"github.com/imattertraining/ledger/eventstore/storetest"
)

const (
	benchStreams   = 10_000
	benchEventSize = 256
	// fsyncProbe is how long each append benchmark measures the raw fsync
	// rate before it starts appending.
	fsyncProbe = 300 * time.Millisecond
)

var benchStreamNames = func() []string {
	names := make([]string, benchStreams)
	for i := range names {
		names[i] = fmt.Sprintf("practitioner-%05d", i)
	}
	return names
}()

// benchPayload is a JSON payload of exactly benchEventSize bytes.
var benchPayload = func() []byte {
	head := `{"course":"Foundations","provider":"Bench Provider","note":"`
	tail := `"}`
	pad := make([]byte, benchEventSize-len(head)-len(tail))
	for i := range pad {
		pad[i] = 'a' + byte(i%26)
	}
	return []byte(head + string(pad) + tail)
}()

func benchEvent() eventstore.EventData {
	return eventstore.EventData{
		ID: uuid.New(), Type: "CourseCompleted", SchemaVersion: 1,
		OccurredOn: "2024-03-01", RecordedBy: "admin:bench", Data: benchPayload,
	}
}

func openBench(b *testing.B, dir string) *bolt.Store {
	b.Helper()
	s, err := bolt.Open(filepath.Join(dir, "ledger.db"), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, eventstore.ErrClosed) {
			b.Error(err)
		}
	})
	return s
}

// fsyncRate measures the directory's write+fsync rate per second.
func fsyncRate(b *testing.B, dir string) float64 {
	b.Helper()
	start := time.Now()
	lat := storetest.FsyncLoop(b, dir, math.MaxInt, fsyncProbe)
	return float64(len(lat)) / time.Since(start).Seconds()
}

// BenchmarkFsync is the disk's raw durability rate: one 4 KiB append and
// fsync per op, in the directory the stores use.
func BenchmarkFsync(b *testing.B) {
	dir := b.TempDir()
	b.ResetTimer()
	start := time.Now()
	lat := storetest.FsyncLoop(b, dir, b.N, 0)
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "fsync/s")
	storetest.ReportLatencies(b, lat, "")
}

// BenchmarkAppend appends one durable 256-byte event per op to a stream
// chosen uniformly among 10,000, from 1, 4, 8 and 64 concurrent writers.
// Targets on the reference 2-core machine: x_fsync >= 0.5 with 1 writer,
// >= 3 with 8, >= 5 with 64.
func BenchmarkAppend(b *testing.B) {
	for _, writers := range []int{1, 4, 8, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			dir := b.TempDir()
			// The disk's fsync rate wanders from minute to minute: measure
			// it on both sides of the appends and take the mean.
			before := fsyncRate(b, dir)
			s := openBench(b, dir)
			b.ResetTimer()
			rate, lat, err := appendLoad(b.Context(), s, writers, b.N, nil)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			fsyncs := (before + fsyncRate(b, dir)) / 2
			b.ReportMetric(rate, "events/s")
			b.ReportMetric(fsyncs, "fsync/s")
			b.ReportMetric(rate/fsyncs, "x_fsync")
			storetest.ReportLatencies(b, lat, "")
		})
	}
}

// appendLoad runs writers goroutines that together append n single events
// (or, when n is 0, until stop is closed) and returns the rate and each
// append's latency. It does not fail b, so that it can run off the
// benchmark's goroutine.
func appendLoad(ctx context.Context, s eventstore.Store, writers, n int, stop <-chan struct{}) (float64, []time.Duration, error) {
	var next atomic.Int64
	lats := make([][]time.Duration, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 0x1ed9e))
			for {
				if n > 0 && next.Add(1) > int64(n) {
					return
				}
				if n == 0 {
					select {
					case <-stop:
						return
					default:
					}
				}
				stream := benchStreamNames[rng.IntN(benchStreams)]
				t0 := time.Now()
				if _, err := s.Append(ctx, stream, eventstore.Any(), benchEvent()); err != nil {
					errs[w] = err
					return
				}
				lats[w] = append(lats[w], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := slices.Concat(lats...)
	return float64(len(all)) / elapsed.Seconds(), all, errors.Join(errs...)
}

// fixtureEvents is the size of the read benchmarks' pre-filled store.
func fixtureEvents() int {
	if testing.Short() {
		return 100_000
	}
	return 1_000_000
}

// buildFixture fills s with n events spread evenly over the 10,000 streams,
// each stream's share in one multi-event append, from several goroutines so
// that commits are shared.
func buildFixture(b *testing.B, s eventstore.Store, n int) {
	b.Helper()
	perStream := n / benchStreams
	var next atomic.Int64
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for w := range errs {
		wg.Go(func() {
			batch := make([]eventstore.EventData, perStream)
			for {
				i := next.Add(1) - 1
				if i >= benchStreams {
					return
				}
				for j := range batch {
					batch[j] = benchEvent()
				}
				if _, err := s.Append(b.Context(), benchStreamNames[i], eventstore.NoStream(), batch...); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRead runs the read workloads over one pre-filled store, built once
// for all of them.
func BenchmarkRead(b *testing.B) {
	n := fixtureEvents()
	s := openBench(b, b.TempDir())
	t0 := time.Now()
	buildFixture(b, s, n)
	b.Logf("fixture: %d events in %d streams built in %s", n, benchStreams, time.Since(t0).Round(time.Millisecond))

	// all: one op is one decoded envelope from ReadAll. Target on the
	// reference machine: >= 2,000,000 events/s. Latency is per 1,000 events.
	b.Run("all", func(b *testing.B) {
		const chunk = 1000
		var lat []time.Duration
		var sink int
		read := 0
		start := time.Now()
		chunkStart := start
		for read < b.N {
			for e, err := range s.ReadAll(b.Context(), eventstore.Start) {
				if err != nil {
					b.Fatal(err)
				}
				sink += len(e.Data)
				read++
				if read%chunk == 0 {
					now := time.Now()
					lat = append(lat, now.Sub(chunkStart))
					chunkStart = now
				}
				if read == b.N {
					break
				}
			}
		}
		elapsed := time.Since(start)
		b.StopTimer()
		if sink == 0 {
			b.Fatal("read no payload bytes")
		}
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
		storetest.ReportLatencies(b, lat, "/1k-events")
	})

	// readers: ESBS concurrent_readers: each op reads one whole stream (100
	// events with the full fixture) chosen uniformly.
	for _, readers := range []int{1, 4} {
		b.Run(fmt.Sprintf("readers=%d", readers), func(b *testing.B) {
			var next atomic.Int64
			lats := make([][]time.Duration, readers)
			events := make([]int, readers)
			errs := make([]error, readers)
			var wg sync.WaitGroup
			start := time.Now()
			for r := range readers {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(r), 0x7ead))
					for next.Add(1) <= int64(b.N) {
						t0 := time.Now()
						evs, err := s.ReadStream(b.Context(), benchStreamNames[rng.IntN(benchStreams)], eventstore.ReadOptions{})
						if err != nil {
							errs[r] = err
							return
						}
						lats[r] = append(lats[r], time.Since(t0))
						events[r] += len(evs)
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			if err := errors.Join(errs...); err != nil {
				b.Fatal(err)
			}
			total := 0
			for _, n := range events {
				total += n
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "reads/s")
			b.ReportMetric(float64(total)/elapsed.Seconds(), "events/s")
			storetest.ReportLatencies(b, slices.Concat(lats...), "")
		})
	}

	// subscriber: one op is a subscription from Start that catches up with
	// the whole store while 8 durable writers keep appending, then drains
	// what they wrote once they stop. It reports the catch-up rate, the
	// writers' rate and latencies meanwhile (the reader must not starve
	// them), and how long the subscriber took to drain the live tail.
	b.Run("subscriber/writers=8", func(b *testing.B) {
		stored := 0
		for _, err := range s.ReadAll(b.Context(), eventstore.Start) {
			if err != nil {
				b.Fatal(err)
			}
			stored++
		}
		b.ResetTimer()
		var catchUp, drain time.Duration
		var caughtUp, appended int
		var writeLat []time.Duration
		for range b.N {
			c, d, a, lat := catchUpWhileWriting(b, s, stored, 8)
			catchUp += c
			drain += d
			caughtUp += stored
			appended += a
			stored += a
			writeLat = append(writeLat, lat...)
		}
		b.StopTimer()
		b.ReportMetric(float64(caughtUp)/catchUp.Seconds(), "catchup-events/s")
		// The writers run while the subscriber catches up and stop when it
		// has.
		b.ReportMetric(float64(appended)/catchUp.Seconds(), "write-events/s")
		b.ReportMetric(float64(drain.Microseconds())/float64(b.N), "drain-µs")
		storetest.ReportLatencies(b, writeLat, "/write")
	})

	// open: one op opens the store, which rebuilds the stream index from
	// every event, and closes it. It reports the events indexed per second
	// and the index's heap per event. Last, because it closes s.
	stored := 0
	for _, err := range s.ReadAll(b.Context(), eventstore.Start) {
		if err != nil {
			b.Fatal(err)
		}
		stored++
	}
	path := s.Path()
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	b.Run("open", func(b *testing.B) {
		var heap uint64
		b.ResetTimer()
		for range b.N {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			o, err := bolt.Open(path, bolt.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			runtime.GC()
			runtime.ReadMemStats(&after)
			heap = after.HeapAlloc - min(before.HeapAlloc, after.HeapAlloc)
			if err := o.Close(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		b.StopTimer()
		b.ReportMetric(float64(stored)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(float64(heap)/float64(stored), "heap-B/event")
	})
}

var errDrained = errors.New("bench: subscriber drained the store")

// catchUpWhileWriting subscribes from Start to a store holding stored events
// while writers append, and returns the time to deliver the stored events,
// the time to deliver the rest once the writers stopped, how many they
// appended and their latencies.
func catchUpWhileWriting(b *testing.B, s eventstore.Store, stored, writers int) (catchUp, drain time.Duration, appended int, lat []time.Duration) {
	b.Helper()
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	var delivered atomic.Int64
	target := atomic.Int64{}
	target.Store(math.MaxInt64)
	caughtUp := make(chan time.Time, 1)
	subErr := make(chan error, 1)
	start := time.Now()
	go func() {
		subErr <- s.Subscribe(ctx, eventstore.Start, func(eventstore.RecordedEvent) error {
			d := delivered.Add(1)
			if d == int64(stored) {
				caughtUp <- time.Now()
			}
			if d >= target.Load() {
				return errDrained
			}
			return nil
		})
	}()
	stop := make(chan struct{})
	type load struct {
		lat []time.Duration
		err error
	}
	loaded := make(chan load, 1)
	go func() {
		_, l, err := appendLoad(ctx, s, writers, 0, stop)
		loaded <- load{l, err}
	}()
	var at time.Time
	select {
	case at = <-caughtUp:
	case err := <-subErr:
		b.Fatalf("subscription ended before catching up: %v", err)
	}
	close(stop)
	l := <-loaded
	stopped := time.Now()
	if l.err != nil {
		b.Fatal(l.err)
	}
	total := int64(stored + len(l.lat))
	target.Store(total)
	if delivered.Load() >= total {
		cancel()
	}
	if err := <-subErr; !errors.Is(err, errDrained) && !errors.Is(err, context.Canceled) {
		b.Fatalf("subscription: %v", err)
	}
	if got := delivered.Load(); got != total {
		b.Fatalf("subscriber delivered %d events, want %d", got, total)
	}
	return at.Sub(start), time.Since(stopped), len(l.lat), l.lat
}
