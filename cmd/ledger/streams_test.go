package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore/kurrentdb"
)

// TestStreamPrefixesAgree: the ledger passes domain's stream prefixes to
// KurrentDB; the adapter's default (eventstore imports no domain) must be
// the same, so that a store opened without them still sees every stream.
func TestStreamPrefixesAgree(t *testing.T) {
	assert.Equal(t, domain.StreamPrefixes(), kurrentdb.DefaultStreamPrefixes)
}
