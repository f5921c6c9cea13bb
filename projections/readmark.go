package projections

import (
	"context"
	"sync/atomic"

	"github.com/imattertraining/ledger/eventstore"
)

// A read mark notes the highest global position among the events an answer
// read from the store itself rather than from the read models. An answer
// the API tags with the models' position (a decision's re-evaluation reads
// the decision's stream, organisations, members and licence grants) may
// read an event the models have not taken in yet; its mark then says so,
// and the answer must not carry the tag: the same tag would name two
// different answers, one from before that event and one after.
type readMark struct{ max atomic.Uint64 }

type readMarkKey struct{}

// withReadMark returns ctx carrying a new read mark, and the mark.
func withReadMark(ctx context.Context) (context.Context, *readMark) {
	m := new(readMark)
	return context.WithValue(ctx, readMarkKey{}, m), m
}

// noteRead raises ctx's read mark, if it carries one, to the last of
// events (a stream's events come in revision order, so the last one has
// the highest position).
func noteRead(ctx context.Context, events []eventstore.RecordedEvent) {
	m, _ := ctx.Value(readMarkKey{}).(*readMark)
	if m == nil || len(events) == 0 {
		return
	}
	pos := uint64(events[len(events)-1].Position)
	for {
		old := m.max.Load()
		if pos <= old || m.max.CompareAndSwap(old, pos) {
			return
		}
	}
}

// position is the highest position noted.
func (m *readMark) position() eventstore.Position { return eventstore.Position(m.max.Load()) }
