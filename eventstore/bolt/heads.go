package bolt

import (
	"github.com/imattertraining/ledger/eventstore"
)

// Heads calls fn with every stream's head (its last revision and hash) as
// the store stands at one position, which it returns with the number of
// events up to it, without reading a single event: the stream index holds
// them. It is what a checkpoint signs (see eventstore/checkpoint), in
// milliseconds rather than a read of the whole file. fn must not call the
// store: the index is locked against the writer while it runs. Damage Open
// found in the file is returned as the error.
func (s *Store) Heads(fn func(stream string, revision uint64, hash eventstore.Hash)) (eventstore.Position, uint64, error) {
	idx := s.idx
	idx.mu.RLock()
	defer idx.mu.RUnlock()
	if idx.damaged != nil {
		return 0, 0, idx.damaged
	}
	for name, e := range idx.streams {
		if e.damaged != nil {
			return 0, 0, e.damaged
		}
		fn(name, uint64(len(e.positions)-1), e.lastHash)
	}
	// Positions run from 1 without a gap (Open refuses a file where they do
	// not), so the last position is also the number of events.
	return idx.through, uint64(idx.through), nil
}
