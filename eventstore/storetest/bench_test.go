package storetest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/imattertraining/ledger/eventstore/storetest"
)

// TestPercentile: nearest rank, the smallest value with at least q of the
// values at or below it.
func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.50, 50 * time.Millisecond}, {0.95, 95 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {0.999, 100 * time.Millisecond}} {
		assert.Equal(t, c.want, storetest.Percentile(hundred, c.q), "q=%v", c.q)
	}
	assert.Equal(t, time.Second, storetest.Percentile([]time.Duration{time.Second}, 0.5), "one value is every percentile")
}
