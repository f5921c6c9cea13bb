package storetest

import (
	"math"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"
)

// The ledger's benchmarks run on a shared machine, so besides wall time they
// report CPU time per operation, which other processes do not inflate, and
// latencies as percentiles, all defined here once so that the figures of
// one benchmark compare with another's (the README compares the embedded
// store's with KurrentDB's).

// CPUTime returns the process's user plus system CPU time so far.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ReportCPU adds the CPU time per operation since start (a CPUTime) to b's
// results, as cpu-ns/op.
func ReportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(CPUTime()-start)/float64(b.N), "cpu-ns/op")
}

// Percentile returns the q-quantile (0 < q <= 1) of sorted by the
// nearest-rank definition: the smallest value with at least q of the
// values at or below it. sorted must be sorted and not empty.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

// ReportLatencies sorts lat and adds its p50, p95, p99 and p99.9 (see
// Percentile) to b's results in microseconds, as p50-µs and so on, each
// metric's name followed by unit (e.g. "/append", or "").
func ReportLatencies(b *testing.B, lat []time.Duration, unit string) {
	b.Helper()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	for _, p := range []struct {
		name string
		q    float64
	}{{"p50", 0.50}, {"p95", 0.95}, {"p99", 0.99}, {"p99.9", 0.999}} {
		b.ReportMetric(float64(Percentile(lat, p.q))/float64(time.Microsecond), p.name+"-µs"+unit)
	}
}

// FsyncLoop appends 4 KiB blocks to a file in dir, syncing after each, n
// times or until d has passed (d 0: no limit), and returns each
// write+fsync's latency: the disk's raw durability, which the stores'
// append rates are measured against.
func FsyncLoop(tb testing.TB, dir string, n int, d time.Duration) []time.Duration {
	tb.Helper()
	f, err := os.CreateTemp(dir, "fsync-*.dat")
	if err != nil {
		tb.Fatal(err)
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	block := make([]byte, 4096)
	lat := make([]time.Duration, 0, min(n, 1<<16))
	end := time.Now().Add(d)
	for i := 0; i < n && (d == 0 || time.Now().Before(end)); i++ {
		t0 := time.Now()
		if _, err := f.Write(block); err != nil {
			tb.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			tb.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	return lat
}
