package api

import "github.com/imattertraining/ledger/api/record"

// The write path is package record's; these names are the API's spelling
// of it, for its handlers and callers.
type (
	// Recorder is record.Recorder: validation, evaluation, append.
	Recorder = record.Recorder
	// Proposal is record.Proposal: one fact proposed for recording.
	Proposal = record.Proposal
	// Recorded is record.Recorded: where an accepted event landed.
	Recorded = record.Recorded
	// DryRun is record.DryRun: what a proposal would be recorded as.
	DryRun = record.DryRun
	// Erasure is record.Erasure: the outcome of an erasure.
	Erasure = record.Erasure
	// Batch is record.Batch: `ledger import`'s staging.
	Batch = record.Batch
	// MembersFunc is record.MembersFunc.
	MembersFunc = record.MembersFunc
	// LicenceGrantsFunc is record.LicenceGrantsFunc.
	LicenceGrantsFunc = record.LicenceGrantsFunc
)

// The write path's constructors and decoder, as record names them.
var (
	NewRecorder = record.NewRecorder
	NewBatch    = record.NewBatch
	OpenStored  = record.OpenStored
)
