package keystore

import (
	"github.com/imattertraining/ledger/eventstore/storetest"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// BenchmarkSeal is the write path's cost of sealing a registration's name
// and email, with the stream's key already made (a key's creation is one
// append and fsync of the key file, once per practitioner).
func BenchmarkSeal(b *testing.B) {
	k, err := Open(b.TempDir())
	require.NoError(b, err)
	id := uuid.New()
	_, err = k.Seal(stream, id, typ, registration(), fields)
	require.NoError(b, err)
	data := registration()
	defer storetest.ReportCPU(b, storetest.CPUTime())
	for b.Loop() {
		if _, err := k.Seal(stream, id, typ, data, fields); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen is a read's cost of opening one registration: of a stream
// whose cipher is cached (a view), and of streams met for the first time,
// as a rebuild meets each practitioner once.
func BenchmarkOpen(b *testing.B) {
	k, err := Open(b.TempDir())
	require.NoError(b, err)
	const n = 4096
	streams := make([]string, n)
	ids := make([]uuid.UUID, n)
	sealed := make([][]byte, n)
	for i := range n {
		streams[i], ids[i] = "practitioner-"+uuid.NewString(), uuid.New()
		sealed[i], err = k.Seal(streams[i], ids[i], typ, registration(), fields)
		require.NoError(b, err)
	}
	b.Run("cached", func(b *testing.B) {
		defer storetest.ReportCPU(b, storetest.CPUTime())
		for b.Loop() {
			if _, _, err := k.Open(streams[0], ids[0], typ, sealed[0], fields); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("first", func(b *testing.B) {
		defer storetest.ReportCPU(b, storetest.CPUTime())
		i := 0
		for b.Loop() {
			k.aeads.Delete(streams[i%n])
			if _, _, err := k.Open(streams[i%n], ids[i%n], typ, sealed[i%n], fields); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
