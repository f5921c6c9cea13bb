package domain

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The domain is pure: it holds the language of the seeds and nothing that
// does I/O, reads a clock or knows about storage or HTTP (ARCHITECTURE.md).
// These tests keep it so, as tailscale's tstest/deptest does.

// goList runs go list on the domain package (not its tests) and returns
// one line per result.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	require.NoError(t, err, "the go tool must be on PATH for the dependency test")
	cmd := exec.Command(goTool, append([]string{"list"}, append(args, ".")...)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go list: %s", out)
	return strings.Fields(string(out))
}

func TestDomainDependencies(t *testing.T) {
	self := goList(t, "-f", "{{.ImportPath}}")[0]
	module := strings.TrimSuffix(self, "/domain")

	// Outside the standard library, only the domain itself, uuid, and
	// Unicode normalisation for the personal-data scan (pure tables).
	nonStandard := goList(t, "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}")
	allowed := []string{self, "github.com/google/uuid", "golang.org/x/text/unicode/norm", "golang.org/x/text/transform"}
	for _, dep := range nonStandard {
		assert.Contains(t, allowed, dep, "domain must not depend on %s", dep)
	}

	all := goList(t, "-deps", "-f", "{{.ImportPath}}")
	direct := goList(t, "-f", `{{join .Imports " "}}`)
	// A banned name ending in "/..." bans the whole tree under it.
	tests := []struct {
		name   string
		pkgs   []string // the packages searched
		banned []string
	}{
		{"no sibling packages, even indirectly", all, []string{module + "/eventstore/...", module + "/projections/...", module + "/api/...", module + "/cmd/..."}},
		// uuid brings in net (for node ids) and database/sql/driver (for
		// Scan and Value); neither gives the domain a connection or a query.
		{"no storage or HTTP, even indirectly", all, []string{"go.etcd.io/bbolt/...", "github.com/EventStore/...", "github.com/go-chi/...", "net/http/...", "os/exec", "database/sql"}},
		// fmt brings os in indirectly; the domain itself must not touch it.
		{"no direct I/O, network or environment", direct, []string{"os/...", "io/ioutil", "io/fs", "path/filepath", "net/...", "syscall", "log/...", "unsafe", "runtime/..."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NotEmpty(t, tt.pkgs)
			for _, p := range tt.pkgs {
				for _, b := range tt.banned {
					tree, ok := strings.CutSuffix(b, "/...")
					assert.False(t, p == b || (ok && (p == tree || strings.HasPrefix(p, tree+"/"))), "domain imports %s", p)
				}
			}
		})
	}
}

// clockCalls are the functions that read the clock or the environment:
// rules must get dates as arguments so a replay answers the same in ten years.
var clockCalls = map[string][]string{
	"time": {"Now", "Since", "Until", "Tick", "After", "AfterFunc", "NewTimer", "NewTicker", "Sleep"},
	"os":   {"Getenv", "LookupEnv", "Environ"},
}

// clockUses returns "file:line pkg.Func" for each use of a clockCalls
// function in src, however the package was imported (renamed or not).
func clockUses(fset *token.FileSet, file *ast.File) []string {
	names := map[string]string{} // local name -> import path
	for _, imp := range file.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		local := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			local = imp.Name.Name
		}
		names[local] = path
	}
	var uses []string
	ast.Inspect(file, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		id, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		if path, ok := names[id.Name]; ok && slices.Contains(clockCalls[path], sel.Sel.Name) {
			uses = append(uses, fset.Position(sel.Pos()).String()+" "+path+"."+sel.Sel.Name)
		}
		return true
	})
	return uses
}

func TestClockUsesDetector(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want int
	}{
		{"time.Now", "package x\nimport \"time\"\nvar _ = time.Now()", 1},
		{"renamed import", "package x\nimport clock \"time\"\nvar _ = clock.Since(clock.Time{})", 1},
		{"environment", "package x\nimport \"os\"\nvar _ = os.Getenv(\"TZ\")", 1},
		{"method value", "package x\nimport \"time\"\nvar now = time.Now", 1},
		{"dates as arguments", "package x\nimport \"time\"\nfunc f(t time.Time) time.Time { return t.Add(time.Hour) }", 0},
		{"a local named time", "package x\ntype c struct{}\nfunc (c) Now() int { return 0 }\nvar time c\nvar _ = time.Now()", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, "x.go", tt.src, 0)
			require.NoError(t, err)
			assert.Len(t, clockUses(fset, f), tt.want)
		})
	}
}

func TestDomainReadsNoClock(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	scanned := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		scanned++
		assert.Empty(t, clockUses(fset, f), "the domain must take dates and times as arguments")
	}
	assert.NotZero(t, scanned)
}
