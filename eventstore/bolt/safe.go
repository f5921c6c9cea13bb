package bolt

import (
	"fmt"
	"runtime/debug"

	"github.com/imattertraining/ledger/eventstore"
)

// guard runs fn and turns a panic inside it into an error wrapping
// eventstore.ErrCorrupt. bbolt trusts its file: a damaged page makes it
// panic (an impossible page type, an index out of range) or fault on the
// memory map. Faults become panics too, for the calling goroutine, while fn
// runs (debug.SetPanicOnFault), so that a damaged file never takes the
// process down.
func guard(what string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: bbolt failed while %s: %v", eventstore.ErrCorrupt, what, r)
		}
	}()
	return fn()
}
