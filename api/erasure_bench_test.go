package api_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore/keystore"
	"github.com/imattertraining/ledger/eventstore/storetest"
	"github.com/imattertraining/ledger/projections"
)

// BenchmarkSealedAppend is the cost of sealing personal data on the write
// path: the Recorder appending to the embedded store (one writer, durable),
// without a key store (plaintext, as before issue 14) and with one.
// register opens a new practitioner each time: sealed, that is a new key
// appended and fsynced to the key file before the event's own commit.
// details records a name change of a registered practitioner: sealed, only
// the encryption is added.
//
//	go test -run '^$' -bench SealedAppend -benchtime 2000x -count 5 ./api
func BenchmarkSealedAppend(b *testing.B) {
	for _, work := range []string{"register", "details"} {
		for _, sealed := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/sealed=%v", work, sealed), func(b *testing.B) {
				store, _ := benchStore(b, 0)
				rec := api.NewRecorder(store, projections.NewViews(store), time.Now)
				if sealed {
					keys, err := keystore.Open(b.TempDir())
					if err != nil {
						b.Fatal(err)
					}
					b.Cleanup(func() { _ = keys.Close() })
					rec.UseKeys(keys)
				}
				ctx := context.Background()
				by := api.Principal{Name: "admin-1", Role: api.RoleAdmin}
				data := []byte(`{"name":"Benchmark Person","email":"bench@example.org","profession":"education"}`)
				var stream string
				if work == "details" {
					r, err := rec.Register(ctx, by, domain.PractitionerStream, api.Proposal{OccurredOn: "2024-01-10", Data: data})
					if err != nil {
						b.Fatal(err)
					}
					stream = r.Stream
					data = []byte(`{"name":"Benchmark Person Renamed","email":"renamed@example.org"}`)
				}
				b.ResetTimer()
				cpu := storetest.CPUTime()
				for b.Loop() {
					var err error
					if work == "register" {
						_, err = rec.Register(ctx, by, domain.PractitionerStream, api.Proposal{ID: uuid.New(), OccurredOn: "2024-01-10", Data: data})
					} else {
						_, err = rec.Record(ctx, by, stream, api.Proposal{Type: domain.TypePractitionerDetailsChanged, OccurredOn: "2024-02-01", Data: data})
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(storetest.CPUTime()-cpu)/float64(b.N), "cpu-ns/op")
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
			})
		}
	}
}
