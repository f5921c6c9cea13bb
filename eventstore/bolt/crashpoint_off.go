//go:build !crashpoints

package bolt

// crashpoint does nothing in normal builds; see crashpoint_on.go.
func crashpoint(string) {}
