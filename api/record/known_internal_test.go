package record

import (
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestKnownStreams: a stream added is known; the set starts again empty
// once it passes its bound, so it never grows without limit; concurrent
// use is safe (run with -race).
func TestKnownStreams(t *testing.T) {
	var k knownStreams
	assert.False(t, k.has("practitioner-a"))
	k.add("practitioner-a")
	k.add("practitioner-a")
	assert.True(t, k.has("practitioner-a"))
	assert.EqualValues(t, 1, k.n.Load(), "added twice, counted once")

	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range maxKnownStreams / 4 {
				k.add(strconv.Itoa(w) + "-" + strconv.Itoa(i))
			}
		})
	}
	wg.Wait()
	assert.False(t, k.has("practitioner-a"), "past the bound the set started again")
	assert.LessOrEqual(t, k.n.Load(), int64(maxKnownStreams))
	size := 0
	k.names.Range(func(any, any) bool { size++; return true })
	assert.LessOrEqual(t, size, maxKnownStreams+4)
}
