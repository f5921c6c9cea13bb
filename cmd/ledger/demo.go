package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/keystore"
)

// demoCSV is a small, entirely fictional data set in the import format:
// two organisations and a few adult practitioners with invented names,
// written as if today were demoWrittenFor.
//
//go:embed demo.csv
var demoCSV []byte

// demoWrittenFor is the day demo.csv's dates are written for. Standing
// depends on the day it is read (a month without its training, a year
// that ended short), so the demo is loaded with every date moved by the
// days from demoWrittenFor to today: whatever day a newcomer first starts
// it, the trainee is in good standing, the lapsed practitioner lapsed and
// the licences current, exactly as on demoWrittenFor.
var demoWrittenFor = domain.MustDate("2026-06-01")

// The demo's practitioners, each showing a feature (see README.md).
const (
	demoPractitioner = "7d0c8f2e-1a3b-4c5d-8e9f-0a1b2c3d4e01" // Alex Example: Lead Plus, the most complete, named in the welcome text
	demoTrainee      = "7d0c8f2e-1a3b-4c5d-8e9f-0a1b2c3d4e02" // Sam Sample: a fast-tracked trainee Lead Professional
	demoException    = "7d0c8f2e-1a3b-4c5d-8e9f-0a1b2c3d4e03" // Jo Placeholder: a licence granted as an exception, unreviewed
	demoLicensed     = "7d0c8f2e-1a3b-4c5d-8e9f-0a1b2c3d4e04" // Morgan Demo: a Lead Professional with a Level 3 A licence of their own
	demoLapsed       = "7d0c8f2e-1a3b-4c5d-8e9f-0a1b2c3d4e05" // Taylor Invented: a trainee year ended a group short
	demoSuspended    = "7d0c8f2e-1a3b-4c5d-8e9f-0a1b2c3d4e06" // Drew Imaginary: a suspended Informed Practitioner
	demoSchool       = "5b1e0c3a-2d4f-4a6b-9c8d-7e6f5a4b3c01" // Hillside Demo Primary School: a school-held Level 3 A licence
)

// loadDemo imports the demo data set, its dates moved to today (see
// demoWrittenFor), into an empty store and returns how many events it
// stored; a store that holds anything is left alone, so the demo loads on
// first start only.
func loadDemo(ctx context.Context, store eventstore.Store, keys *keystore.Keys, now func() time.Time) (int, error) {
	for _, err := range store.ReadAll(ctx, eventstore.Start) {
		if err != nil {
			return 0, err
		}
		return 0, nil // not empty
	}
	rows, err := demoCSVOn(domain.DateOf(now().UTC()))
	if err != nil {
		return 0, err
	}
	// A bar with its total: one of unknown total (-1) spins from a
	// goroutine of its own, which races with the commit's Set.
	quiet := func(total int, _ string) *progressbar.ProgressBar {
		return progressbar.NewOptions(total, progressbar.OptionSetWriter(io.Discard))
	}
	// The import's report names any refused row: a demo.csv the rules no
	// longer accept says why when the demo fails to load.
	var report bytes.Buffer
	n, err := importCSV(ctx, store, keys, bytes.NewReader(rows), api.Principal{Name: demoRecordedBy, Role: api.RoleAdmin}, now, &report, quiet)
	if err != nil {
		return 0, fmt.Errorf("%w\n%s", err, bytes.TrimSpace(report.Bytes()))
	}
	return n, nil
}

// demoRecordedBy is the name the demo data set is recorded by: reserved,
// so that no token is ever given it.
const demoRecordedBy = "demo"

var (
	demoDateRE = regexp.MustCompile(`"\d{4}-\d{2}-\d{2}"`)
	demoYearRE = regexp.MustCompile(`"year":\d{4}`)
)

// demoCSVOn returns demo.csv with every date moved as demoDay moves it:
// each occurred_on, each date in the data (valid_until) and an action
// plan's year, which follows its occurred_on.
func demoCSVOn(today domain.Date) ([]byte, error) {
	records, err := csv.NewReader(bytes.NewReader(demoCSV)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("demo.csv: %w", err)
	}
	var firstErr error
	move := func(s string) string {
		d, err := demoDay(s, today)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return d.String()
	}
	for _, rec := range records[1:] { // after the header: stream,type,occurred_on,data,id
		rec[2] = move(rec[2])
		year := []byte(`"year":` + rec[2][:4])
		rec[3] = string(demoYearRE.ReplaceAll(demoDateRE.ReplaceAllFunc([]byte(rec[3]), func(b []byte) []byte {
			return []byte(strconv.Quote(move(string(b[1 : len(b)-1]))))
		}), year))
	}
	if firstErr != nil {
		return nil, fmt.Errorf("demo.csv: %w", firstErr)
	}
	var out bytes.Buffer
	w := csv.NewWriter(&out)
	if err := w.WriteAll(records); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// demoDay moves a date of demo.csv, written as if today were
// demoWrittenFor, to the same distance from today.
func demoDay(written string, today domain.Date) (domain.Date, error) {
	d, err := domain.ParseDate(written)
	if err != nil {
		return domain.Date{}, err
	}
	return d.AddDays(demoWrittenFor.DaysUntil(today)), nil
}
