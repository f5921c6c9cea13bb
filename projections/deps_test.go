package projections

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDependencies keeps the arrows pointing inwards: projections reads the
// store through the eventstore interface and asks domain for rules; it never
// imports the HTTP layer, the command, or a particular store backend.
func TestDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	require.NoError(t, err)
	cmd := exec.Command(goTool, "list", "-deps", "-f", "{{.ImportPath}}", ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go list: %s", out)
	deps := strings.Fields(string(out))
	require.NotEmpty(t, deps)
	const module = "github.com/imattertraining/ledger"
	banned := []string{module + "/api", module + "/cmd", module + "/eventstore/bolt", module + "/eventstore/kurrentdb", "net/http", "go.etcd.io/bbolt", "github.com/go-chi/chi/v5"}
	for _, d := range deps {
		for _, b := range banned {
			assert.False(t, d == b || strings.HasPrefix(d, b+"/"), "projections depends on %s", d)
		}
	}
	assert.Contains(t, deps, module+"/domain")
	assert.Contains(t, deps, module+"/eventstore")
}
