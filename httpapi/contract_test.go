package httpapi_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// referencePath is docs/http-api.md, the prose reference of the API.
var referencePath = filepath.Join("..", "docs", "http-api.md")

// errorSources are the directories whose code writes error bodies: httpapi
// maps every domain error in respond.go, and the server answers unmatched
// routes, wrong methods and panics itself.
var errorSources = []string{".", filepath.Join("..", "internal", "httpserver")}

// TestReferenceDocumentsEveryRoute checks that docs/http-api.md has a
// section, headed "### METHOD /path", for every route the router serves and
// every operation of openapi.yaml, and none for a route that is neither.
// TestOpenAPIMatchesRoutes holds the router and openapi.yaml to each other.
func TestReferenceDocumentsEveryRoute(t *testing.T) {
	t.Parallel()
	headings := referenceRouteHeadings(t)
	expected := servedRoutes(t)
	for key := range loadOpenAPI(t).operations(t) {
		expected[key] = true
	}

	var missing, extra []string
	for key := range expected {
		if !headings[key] {
			missing = append(missing, key.String())
		}
	}
	for key := range headings {
		if !expected[key] {
			extra = append(extra, key.String())
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	for _, r := range missing {
		t.Errorf("%s has no section \"### %s\": document the route", referencePath, r)
	}
	for _, r := range extra {
		t.Errorf("%s documents \"### %s\", which neither the router nor openapi.yaml has", referencePath, r)
	}
}

// TestReferenceDocumentsEveryErrorCode checks that every error code the
// server can write is in the error table of docs/http-api.md with the status
// the code writes it with, and in openapi.yaml's ErrorCode enum; and that the
// table and the enum list the same codes.
func TestReferenceDocumentsEveryErrorCode(t *testing.T) {
	t.Parallel()
	emitted := emittedErrorCodes(t)
	table := referenceErrorTable(t)
	enum := openAPIErrorCodes(t)

	for code, statuses := range emitted {
		documented, ok := table[code]
		if !ok {
			t.Errorf("the server writes error %q, which the error table of %s does not list", code, referencePath)
		}
		for _, status := range statuses {
			if ok && !slices.Contains(documented, status) {
				t.Errorf("the server writes error %q with status %d; %s gives it %v", code, status, referencePath, documented)
			}
		}
		if !slices.Contains(enum, code) {
			t.Errorf("the server writes error %q, which ErrorCode in %s does not list", code, openAPIPath)
		}
	}
	for code := range table {
		if !slices.Contains(enum, code) {
			t.Errorf("%s lists error %q, which ErrorCode in %s does not", referencePath, code, openAPIPath)
		}
	}
	for _, code := range enum {
		if _, ok := table[code]; !ok {
			t.Errorf("ErrorCode in %s lists %q, which the error table of %s does not", openAPIPath, code, referencePath)
		}
	}
	if len(emitted) < 10 {
		t.Errorf("found only %d error codes in the server's code; the scan has lost them", len(emitted))
	}
}

var routeHeading = regexp.MustCompile(`^### (GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) (/\S*)\s*$`)

// referenceRouteHeadings returns the routes docs/http-api.md has a section
// for.
func referenceRouteHeadings(t *testing.T) map[openAPIRoute]bool {
	t.Helper()
	headings := map[openAPIRoute]bool{}
	for _, line := range strings.Split(readReference(t), "\n") {
		if m := routeHeading.FindStringSubmatch(line); m != nil {
			key := openAPIRoute{method: m[1], path: m[2]}
			if headings[key] {
				t.Errorf("%s has two sections \"### %s\"", referencePath, key)
			}
			headings[key] = true
		}
	}
	return headings
}

var errorTableRow = regexp.MustCompile("^\\| ([1-5][0-9][0-9]) \\| `([a-z_]+)` \\|")

// referenceErrorTable returns the statuses the error table of
// docs/http-api.md (the rows "| 404 | `not_found` | ...") gives each code.
func referenceErrorTable(t *testing.T) map[string][]int {
	t.Helper()
	_, section, ok := strings.Cut(readReference(t), "\n## Errors\n")
	if !ok {
		t.Fatalf("%s has no \"## Errors\" section", referencePath)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	table := map[string][]int{}
	for _, line := range strings.Split(section, "\n") {
		if m := errorTableRow.FindStringSubmatch(line); m != nil {
			status, _ := strconv.Atoi(m[1])
			table[m[2]] = append(table[m[2]], status)
		}
	}
	if len(table) == 0 {
		t.Fatalf("the \"## Errors\" section of %s has no table rows like \"| 404 | `not_found` | ...\"", referencePath)
	}
	return table
}

func readReference(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(referencePath)
	if err != nil {
		t.Fatalf("read the API reference: %v", err)
	}
	return string(data)
}

// openAPIErrorCodes returns the enum of components.schemas.ErrorCode.
func openAPIErrorCodes(t *testing.T) []string {
	t.Helper()
	v, ok := loadOpenAPI(t).resolvePointer("#/components/schemas/ErrorCode/enum")
	values, _ := v.([]any)
	if !ok || len(values) == 0 {
		t.Fatalf("%s has no components.schemas.ErrorCode with an enum", openAPIPath)
	}
	codes := make([]string, 0, len(values))
	for _, v := range values {
		s, ok := v.(string)
		if !ok {
			t.Fatalf("ErrorCode enum value %v is not a string", v)
		}
		codes = append(codes, s)
	}
	return codes
}

// errorWriters are the functions every error body goes through, and the
// positions of their status and code arguments.
var errorWriters = map[string]struct{ status, code int }{
	"writeError": {status: 1, code: 2}, // httpapi: writeError(w, status, code, message, extra)
	"jsonError":  {status: 0, code: 1}, // httpserver: jsonError(status, code, message)
}

// literalErrorBody finds error bodies written out whole, such as the panic
// handler's.
var literalErrorBody = regexp.MustCompile(`"error":\s*"([a-z_]+)"`)

// emittedErrorCodes reads the server's source and returns every error code
// it can write, with the statuses it writes each with (none for a body
// written out whole, whose status is set elsewhere). A call to an error
// writer whose status or code is not a constant the scan can read fails the
// test, so no code can escape it.
func emittedErrorCodes(t *testing.T) map[string][]int {
	t.Helper()
	statusByName := httpStatusConstants()
	codes := map[string][]int{}
	fset := token.NewFileSet()
	for _, dir := range errorSources {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatalf("list %s: %v", dir, err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			file, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				t.Fatalf("parse %s: %v", path, err)
			}
			ast.Inspect(file, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.BasicLit:
					if n.Kind == token.STRING {
						for _, m := range literalErrorBody.FindAllStringSubmatch(n.Value, -1) {
							if _, ok := codes[m[1]]; !ok {
								codes[m[1]] = nil
							}
						}
					}
				case *ast.CallExpr:
					fn, ok := n.Fun.(*ast.Ident)
					if !ok {
						return true
					}
					args, ok := errorWriters[fn.Name]
					if !ok || len(n.Args) <= max(args.status, args.code) {
						return true
					}
					at := fset.Position(n.Pos())
					code, okCode := stringLiteral(n.Args[args.code])
					status, okStatus := statusConstant(n.Args[args.status], statusByName)
					if !okCode || !okStatus {
						t.Errorf("%s: %s's status and code must be an http.Status constant and a string literal, for this test to see them", at, fn.Name)
						return true
					}
					if !slices.Contains(codes[code], status) {
						codes[code] = append(codes[code], status)
					}
				}
				return true
			})
		}
	}
	return codes
}

func stringLiteral(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

func statusConstant(e ast.Expr, statusByName map[string]int) (int, bool) {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return 0, false
	}
	if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "http" {
		return 0, false
	}
	status, ok := statusByName[sel.Sel.Name]
	return status, ok
}

// httpStatusConstants maps net/http's status constant names to their values,
// derived from the status texts ("Too Many Requests" is
// StatusTooManyRequests), so no list has to be kept here.
func httpStatusConstants() map[string]int {
	strip := strings.NewReplacer(" ", "", "-", "", "'", "")
	byName := map[string]int{}
	for code := 100; code < 600; code++ {
		if text := http.StatusText(code); text != "" {
			byName["Status"+strip.Replace(text)] = code
		}
	}
	return byName
}

// TestOpenAPIErrorResponses checks that openapi.yaml describes the errors of
// every operation alike: each 4xx and 5xx answers the shared Error schema
// (or a schema built on it), every operation lists 405, and every one
// behind a bearer token lists 401 and 429, and 400, 413 and 415 when it
// reads a JSON body. Readiness is the exception: its 503 is the health
// status, {"status": "unavailable"}, that probes read.
func TestOpenAPIErrorResponses(t *testing.T) {
	t.Parallel()
	spec := loadOpenAPI(t)
	for key, op := range spec.operations(t) {
		responses, _ := yamlMap(op.op["responses"])
		want := []string{"405"}
		if spec.requiresBearer(op) {
			want = append(want, "401", "429")
			if body, ok := spec.deref(op.op["requestBody"]); ok {
				if content, _ := yamlMap(body["content"]); content["application/json"] != nil {
					want = append(want, "400", "413", "415")
				}
			}
		}
		for _, code := range want {
			if _, ok := responses[code]; !ok {
				t.Errorf("%s does not list its %s response", key, code)
			}
		}
		for code, v := range responses {
			if code < "400" || code == "default" || yamlMapValue(v, "$ref") == "#/components/responses/NotReady" {
				continue
			}
			resp, ok := spec.deref(v)
			if !ok {
				t.Errorf("%s: response %s does not resolve", key, code)
				continue
			}
			content, _ := yamlMap(resp["content"])
			media, _ := yamlMap(content["application/json"])
			if !spec.isErrorSchema(media["schema"]) {
				t.Errorf("%s: response %s is not application/json with the Error schema (or one built on it)", key, code)
			}
		}
	}
}

// isErrorSchema reports whether schema is Error, an allOf including it, or a
// oneOf of such.
func (s *openAPISpec) isErrorSchema(schema any) bool {
	m, ok := yamlMap(schema)
	if !ok {
		return false
	}
	if ref, _ := m["$ref"].(string); ref != "" {
		if ref == "#/components/schemas/Error" {
			return true
		}
		resolved, ok := s.resolvePointer(ref)
		return ok && s.isErrorSchema(resolved)
	}
	if all, ok := m["allOf"].([]any); ok {
		return slices.ContainsFunc(all, func(v any) bool {
			ref, _ := yamlMapValue(v, "$ref").(string)
			return ref == "#/components/schemas/Error"
		})
	}
	if one, ok := m["oneOf"].([]any); ok && len(one) > 0 {
		for _, v := range one {
			if !s.isErrorSchema(v) {
				return false
			}
		}
		return true
	}
	return false
}

func yamlMapValue(v any, key string) any {
	m, _ := yamlMap(v)
	return m[key]
}
