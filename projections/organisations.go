package projections

import (
	"errors"

	"github.com/imattertraining/ledger/eventstore"
)

func isNotFound(err error) bool { return errors.Is(err, eventstore.ErrStreamNotFound) }
