package archtest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Violation is one breach of the pure-core rules.
type Violation struct {
	Pos  token.Position
	Rule string
}

func (v Violation) String() string { return fmt.Sprintf("%s: %s", v.Pos, v.Rule) }

// forbiddenImports are packages a core may not import, by exact path or by
// path prefix (ending in "/").
var forbiddenImports = []string{
	"net", "net/",
	"os", "os/",
	"syscall",
	"crypto/rand",
	"github.com/quic-go/",
	"github.com/cockroachdb/pebble",
}

// forbiddenTimeFuncs read the wall clock or schedule on it.
var forbiddenTimeFuncs = map[string]bool{
	"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true,
	"AfterFunc": true, "Tick": true, "NewTimer": true, "NewTicker": true,
}

// allowedRandFuncs construct a seeded generator; every other package-level
// function of math/rand reads the global source.
var allowedRandFuncs = map[string]bool{
	"New": true, "NewSource": true, "NewZipf": true,
	"NewPCG": true, "NewChaCha8": true,
}

func importForbidden(path string) bool {
	for _, f := range forbiddenImports {
		if strings.HasSuffix(f, "/") {
			if strings.HasPrefix(path, f) {
				return true
			}
		} else if path == f || strings.HasPrefix(path, f+"/") {
			return true
		}
	}
	return false
}

// CheckFile reports the violations in one parsed Go file.
func CheckFile(fset *token.FileSet, f *ast.File) []Violation {
	var out []Violation
	// Local names of time and math/rand imports, which may be renamed.
	timeNames := map[string]bool{}
	randNames := map[string]bool{}
	for _, imp := range f.Imports {
		path, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			continue
		}
		if importForbidden(path) {
			out = append(out, Violation{fset.Position(imp.Pos()), "imports " + path})
		}
		local := path[strings.LastIndex(path, "/")+1:]
		if path == "math/rand/v2" {
			local = "rand"
		}
		if imp.Name != nil {
			local = imp.Name.Name
		}
		switch path {
		case "time":
			timeNames[local] = true
		case "math/rand", "math/rand/v2":
			randNames[local] = true
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			out = append(out, Violation{fset.Position(n.Pos()), "go statement"})
		case *ast.SelectorExpr:
			pkg, ok := n.X.(*ast.Ident)
			if !ok || pkg.Obj != nil { // a local variable, not a package
				return true
			}
			if timeNames[pkg.Name] && forbiddenTimeFuncs[n.Sel.Name] {
				out = append(out, Violation{fset.Position(n.Pos()), "calls time." + n.Sel.Name})
			}
			if randNames[pkg.Name] && !allowedRandFuncs[n.Sel.Name] && isFunctionName(n.Sel.Name) {
				out = append(out, Violation{fset.Position(n.Pos()), "uses global math/rand." + n.Sel.Name})
			}
		}
		return true
	})
	return out
}

// isFunctionName tells package-level functions of math/rand from its types
// (rand.Rand, rand.Source), which a core may name freely.
func isFunctionName(name string) bool {
	switch name {
	case "Rand", "Source", "Source64", "Zipf", "PCG", "ChaCha8":
		return false
	}
	return true
}

// CheckDir parses the non-test Go files of one package directory.
func CheckDir(dir string) ([]Violation, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var out []Violation
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		// Object resolution stays on, so a local identifier that shadows a
		// package name is not mistaken for it.
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, 0)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		out = append(out, CheckFile(fset, f)...)
	}
	return out, nil
}

// CorePackages lists the directories (relative to root) that hold pure cores:
// every package directory under node/ not named in shell, plus the extra
// core directories that exist.
func CorePackages(root string, shell map[string]bool, extra []string) ([]string, error) {
	var dirs []string
	err := filepath.WalkDir(filepath.Join(root, "node"), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if d.Name() == "testdata" {
			return filepath.SkipDir
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if shell[rel] {
			return filepath.SkipDir
		}
		if hasGoFiles(path) {
			dirs = append(dirs, rel)
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	for _, e := range extra {
		if hasGoFiles(filepath.Join(root, e)) {
			dirs = append(dirs, e)
		}
	}
	sort.Strings(dirs)
	return dirs, nil
}

func hasGoFiles(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".go") && !strings.HasSuffix(e.Name(), "_test.go") {
			return true
		}
	}
	return false
}
