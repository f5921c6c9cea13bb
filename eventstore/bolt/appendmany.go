package bolt

import (
	"context"

	"github.com/imattertraining/ledger/eventstore"
)

var _ eventstore.MultiAppender = (*Store)(nil)

// AppendMany appends to several streams in one transaction; see
// eventstore.MultiAppender. `ledger import` uses it, so that an import
// killed part-way leaves nothing of its file in the store.
//
// It is one more request for the writer, committed with whatever else is
// queued, like an Append: each part is checked on its own first
// (ErrInvalidEvent, with the limits of one Append), then applied inside the
// next group commit's transaction in order. If a part is refused after
// parts before it were written, the transaction is rolled back and done
// again without this request, so the others queued with it are unaffected.
// The size of the whole is the caller's to bound: it is held in memory
// until the commit.
func (s *Store) AppendMany(ctx context.Context, parts ...eventstore.StreamAppend) ([]eventstore.AppendResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(parts) == 0 {
		return nil, invalidf("no streams to append to")
	}
	for _, p := range parts {
		if err := s.validate(p.Stream, p.Events); err != nil {
			return nil, err
		}
	}
	req := &appendRequest{ctx: ctx, parts: parts, done: make(chan struct{})}
	if err := s.enqueue(req); err != nil {
		return nil, err
	}
	<-req.done
	if req.err != nil {
		return nil, req.err
	}
	return req.results, nil
}

// applyParts applies an AppendMany request's parts in the transaction of
// st, as apply does one Append's. It returns the number of events written,
// or an error: a refusal that left the transaction untouched (nothing of
// the request written yet), or an *errWrite, which rolls it back.
func (s *Store) applyParts(b buckets, st *batchState, r *appendRequest) (int, error) {
	results := make([]eventstore.AppendResult, len(r.parts))
	written := 0
	for i, p := range r.parts {
		part := appendRequest{ctx: r.ctx, stream: p.Stream, expected: p.Expected, events: p.Events}
		res, n, err := s.apply(b, st, &part)
		if err != nil {
			if _, ok := err.(*errWrite); !ok && written > 0 {
				// Refused after earlier parts were written: those must go.
				err = &errWrite{err}
			}
			return 0, err
		}
		results[i] = res
		written += n
	}
	r.results = results
	return written, nil
}
