package api_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestImportRules keeps the arrows of the API's packages pointing inwards
// (domain/deps_test.go and projections/deps_test.go keep theirs): the
// server never imports a store backend, which the command wires in; the
// client never imports the server, so an integrator's binary does not
// carry it; the token file and the export format import no layer above
// them; the write path (api/record) imports no HTTP and no store backend,
// so the API, the console and the command all call it as it is. A name ending in "/..." bans the whole tree under it.
func TestImportRules(t *testing.T) {
	const module = "github.com/imattertraining/ledger"
	backends := []string{module + "/eventstore/bolt/...", module + "/eventstore/kurrentdb/...", "go.etcd.io/bbolt/...", "github.com/EventStore/...", module + "/cmd/..."}
	for _, rule := range []struct {
		pkg    string
		banned []string
	}{
		{"api", backends},
		{"api/console", backends},
		{"api/client", append([]string{module + "/api", module + "/api/auth", module + "/api/console", "github.com/go-chi/...", "github.com/prometheus/..."}, backends...)},
		{"api/auth", []string{module + "/api", module + "/projections/...", module + "/eventstore/...", "net/http/..."}},
		{"api/record", append([]string{module + "/api", module + "/api/client", module + "/api/console", "net/http/...", "github.com/go-chi/..."}, backends...)},
		{"eventstore/export", []string{module + "/domain/...", module + "/projections/...", module + "/api/..."}},
	} {
		t.Run(rule.pkg, func(t *testing.T) {
			for _, dep := range depsOf(t, module+"/"+rule.pkg) {
				for _, b := range rule.banned {
					tree, all := strings.CutSuffix(b, "/...")
					assert.False(t, dep == tree || all && strings.HasPrefix(dep, tree+"/"), "%s depends on %s", rule.pkg, dep)
				}
			}
		})
	}
}

// depsOf lists every package pkg (not its tests) depends on, itself
// included.
func depsOf(t *testing.T, pkg string) []string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	require.NoError(t, err, "the go tool must be on PATH for the dependency test")
	cmd := exec.Command(goTool, "list", "-deps", "-f", "{{.ImportPath}}", pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go list: %s", out)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, pkg)
	return deps
}
