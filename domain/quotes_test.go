package domain

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCitedQuotesExist checks that every sentence the code and its tests
// quote from a seed or DOMAIN.md is in that file, verbatim but for line
// breaks and runs of spaces (no-break spaces included). A citation is "older seed", "newer seed" or
// "DOMAIN.md" followed by one or more double-quoted passages, up to the
// next citation or "v1 reading". testdata/seeds holds copies of
// ../shared/seeds/*.txt and ../shared/design/DOMAIN.md; refresh them when
// those change.
func TestCitedQuotesExist(t *testing.T) {
	docs := map[string]string{}
	for marker, file := range map[string]string{
		"older seed": "licensing-and-lead-professional-training.txt",
		"newer seed": "lead-plus-professional-role.txt",
		"DOMAIN.md":  "DOMAIN.md",
	} {
		b, err := os.ReadFile(filepath.Join("testdata", "seeds", file))
		require.NoError(t, err)
		docs[marker] = normaliseSpace(string(b))
	}
	checked := 0
	require.NoError(t, filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && d.Name() != ".." || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		for _, s := range stringsIn(t, path) {
			for _, c := range citations(s) {
				checked++
				assert.True(t, strings.Contains(docs[c.doc], c.quote), "%s quotes %s: %q is not in it", path, c.doc, c.quote)
			}
		}
		return nil
	}))
	assert.Greater(t, checked, 100, "the citations were found")
}

var (
	spaceRun = regexp.MustCompile(`[\s\x{00a0}]+`)
	marker   = regexp.MustCompile(`older seed|newer seed|DOMAIN\.md|v1 reading`)
	quoted   = regexp.MustCompile(`"([^"]{3,})"`)
)

func normaliseSpace(s string) string { return spaceRun.ReplaceAllString(s, " ") }

type citation struct{ doc, quote string }

// citations finds the quoted passages s attributes to a document.
func citations(s string) []citation {
	var out []citation
	locs := marker.FindAllStringIndex(s, -1)
	for i, loc := range locs {
		doc := s[loc[0]:loc[1]]
		if doc == "v1 reading" {
			continue
		}
		end := len(s)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		for _, m := range quoted.FindAllStringSubmatch(s[loc[1]:end], -1) {
			out = append(out, citation{doc: doc, quote: normaliseSpace(m[1])})
		}
	}
	return out
}

// stringsIn returns the string constants of a Go file: each literal, and
// each concatenation of literals as one string.
func stringsIn(t *testing.T, path string) []string {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	require.NoError(t, err, path)
	var out []string
	var value func(e ast.Expr) (string, bool)
	value = func(e ast.Expr) (string, bool) {
		switch e := e.(type) {
		case *ast.BasicLit:
			if e.Kind != token.STRING {
				return "", false
			}
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		case *ast.BinaryExpr:
			if e.Op != token.ADD {
				return "", false
			}
			a, ok := value(e.X)
			if !ok {
				return "", false
			}
			b, ok := value(e.Y)
			return a + b, ok
		case *ast.ParenExpr:
			return value(e.X)
		}
		return "", false
	}
	ast.Inspect(f, func(n ast.Node) bool {
		if e, ok := n.(ast.Expr); ok {
			if s, ok := value(e); ok {
				out = append(out, s)
				return false
			}
		}
		return true
	})
	return out
}
