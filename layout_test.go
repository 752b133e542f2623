package checkoutd_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"
)

// module is the module's path: every package of ours starts with it.
const module = "github.com/checkoutd/checkoutd"

// domain are the packages above internal/: the domain, the job runner and
// the HTTP adapter. Nothing under internal/ may import them, apart from the
// test tools in internalMayImport.
var domain = []string{"inventory", "checkout", "webhooks", "alerts", "jobs", "httpapi", "console"}

// internalMayImport are the documented exceptions to "internal/ is
// plumbing": test tools that drive or check the domain from outside.
var internalMayImport = map[string][]string{
	// The soak checks the ledger's books after its run (see its doc).
	"internal/soak": {"inventory"},
	// Test kits build a shop with stock and holds for other packages' tests.
	"internal/testkit": domain,
}

// mustNotImport are imports that would turn the picture upside down.
var mustNotImport = map[string][]string{
	// webhooks dispatches to checkout; the jobs it needs are checkout's,
	// enqueued through checkout's own interface.
	"webhooks":  {"jobs", "httpapi", "console"},
	"inventory": {"checkout", "webhooks", "alerts", "jobs", "httpapi", "console"},
	"checkout":  {"webhooks", "alerts", "jobs", "httpapi", "console"},
	"alerts":    {"checkout", "webhooks", "jobs", "httpapi", "console"},
	"jobs":      {"checkout", "webhooks", "httpapi", "console"},
	// The two adapters sit side by side; neither builds on the other.
	"httpapi": {"console"},
	"console": {"httpapi"},
}

// listedPackage is what the layout rules read of `go list -json`.
type listedPackage struct {
	// ImportPath is the package's path, with a test variant's " [x.test]"
	// suffix removed.
	ImportPath string
	// ForTest is set on a test variant: the package it is built to test.
	ForTest string
	// Imports are the direct imports, tests' included for a test variant.
	Imports []string
	// Deps are every package it depends on, directly or not.
	Deps []string
}

// TestLayout keeps the layout docs/architecture.md describes: a table's
// generated queries are imported by its owner (and its test kit) alone,
// internal/ imports no domain package but for the documented test tools,
// the root package imports nothing of ours, and the domain's imports point down (webhooks
// does not import jobs). It reads `go list -test -json`: the packages'
// dependencies, direct or not, and the tests' direct imports, which are
// held to the first rule only.
func TestLayout(t *testing.T) {
	cmd := exec.Command("go", "list", "-test", "-json", "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	pkgs, err := decodePackages(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages; want the whole module", len(pkgs))
	}
	for _, v := range layoutViolations(pkgs) {
		t.Error(v)
	}
}

// TestLayoutViolations checks that the rules catch what they are for.
func TestLayoutViolations(t *testing.T) {
	pkgs := []listedPackage{
		{ImportPath: module + "/httpapi", Imports: []string{module + "/inventory/internal/db"}},
		{ImportPath: module + "/internal/config", Deps: []string{module + "/inventory"}},
		{ImportPath: module + "/internal/soak", Deps: []string{module + "/inventory", module + "/checkout"}},
		{ImportPath: module + "/webhooks", Deps: []string{module + "/jobs"}},
		{ImportPath: module + "/checkout_test", ForTest: module + "/checkout", Imports: []string{module + "/inventory/internal/db"}},
		{ImportPath: module, Deps: []string{module + "/internal/pgtext"}},
		// Allowed: an owner and its own tests import its queries; soak
		// reads the ledger; anyone imports the root.
		{ImportPath: module + "/inventory", Imports: []string{module + "/inventory/internal/db"}},
		{ImportPath: module + "/checkout/checkouttest", Imports: []string{module + "/checkout/internal/db"}},
		{ImportPath: module + "/inventory", ForTest: module + "/inventory", Imports: []string{module + "/inventory/internal/db"}},
		{ImportPath: module + "/internal/ids", Deps: []string{module}},
		{ImportPath: module + "/internal/apikey_test", ForTest: module + "/internal/apikey", Deps: []string{module + "/inventory"}},
	}
	got := layoutViolations(pkgs)
	want := []string{
		"httpapi imports inventory/internal/db: only inventory may",
		"internal/config depends on inventory: internal/ is plumbing",
		"internal/soak depends on checkout: internal/ is plumbing",
		"webhooks depends on jobs",
		"checkout (test) imports inventory/internal/db: only inventory may",
		"checkoutd (the root) depends on internal/pgtext: it imports nothing of ours",
	}
	if !slices.Equal(got, want) {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// decodePackages reads the stream of JSON objects `go list -json` prints,
// dropping the generated test mains.
func decodePackages(r io.Reader) ([]listedPackage, error) {
	var pkgs []listedPackage
	dec := json.NewDecoder(r)
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			return pkgs, nil
		} else if err != nil {
			return nil, fmt.Errorf("decode go list: %w", err)
		}
		if strings.HasSuffix(p.ImportPath, ".test") {
			continue
		}
		p.ImportPath = stripVariant(p.ImportPath)
		for i := range p.Imports {
			p.Imports[i] = stripVariant(p.Imports[i])
		}
		for i := range p.Deps {
			p.Deps[i] = stripVariant(p.Deps[i])
		}
		pkgs = append(pkgs, p)
	}
}

// stripVariant turns "x [y.test]" into "x".
func stripVariant(path string) string {
	path, _, _ = strings.Cut(path, " ")
	return path
}

// layoutViolations returns each broken rule, as "who does what".
func layoutViolations(pkgs []listedPackage) []string {
	var out []string
	for _, p := range pkgs {
		rel, ok := relative(p.ImportPath)
		if !ok {
			continue
		}
		// An external test package (x_test) is one of x's tests.
		rel, xtest := strings.CutSuffix(rel, "_test")
		isTest := xtest || p.ForTest != ""
		name := rel
		if isTest {
			name += " (test)"
		}
		for _, imp := range p.Imports {
			r, ok := relative(imp)
			if !ok {
				continue
			}
			// The owner's test kit (checkout/checkouttest) reads its tables
			// as stored, for the owner's tests and its callers'.
			if owner, found := strings.CutSuffix(r, "/internal/db"); found && owner != rel && rel != owner+"/"+path.Base(owner)+"test" {
				out = append(out, fmt.Sprintf("%s imports %s: only %s may", name, r, owner))
			}
		}
		if isTest {
			// Tests may build their world through the domain's API (or a
			// test kit's); the rules below are about the packages.
			continue
		}
		var deps []string
		for _, d := range p.Deps {
			if r, ok := relative(d); ok {
				deps = append(deps, r)
			}
		}
		switch {
		case rel == "":
			for _, d := range deps {
				out = append(out, fmt.Sprintf("checkoutd (the root) depends on %s: it imports nothing of ours", d))
			}
		case strings.HasPrefix(rel, "internal/"):
			top := strings.Join(strings.SplitN(rel, "/", 3)[:2], "/")
			for _, d := range deps {
				if slices.Contains(domain, d) && !slices.Contains(internalMayImport[top], d) {
					out = append(out, fmt.Sprintf("%s depends on %s: internal/ is plumbing", name, d))
				}
			}
		default:
			for _, d := range deps {
				if slices.Contains(mustNotImport[rel], d) {
					out = append(out, fmt.Sprintf("%s depends on %s", name, d))
				}
			}
		}
	}
	return out
}

// relative returns path relative to the module ("" for the root) and
// whether it is ours.
func relative(path string) (string, bool) {
	if path == module {
		return "", true
	}
	rel, ok := strings.CutPrefix(path, module+"/")
	return rel, ok
}
