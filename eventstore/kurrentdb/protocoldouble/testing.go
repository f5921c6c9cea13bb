package protocoldouble

import "testing"

// StartTest starts a double for a test or a benchmark and stops it when tb
// ends; it fails tb if the double cannot start.
func StartTest(tb testing.TB, opts Options) *Server {
	tb.Helper()
	srv, err := Start(opts)
	if err != nil {
		tb.Fatalf("protocoldouble: %v", err)
	}
	tb.Cleanup(srv.Close)
	return srv
}
