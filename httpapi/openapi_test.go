package httpapi_test

import (
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"go.yaml.in/yaml/v3"

	"github.com/checkoutd/checkoutd/httpapi"
	"github.com/checkoutd/checkoutd/internal/httpserver"
)

// openAPIPath is docs/openapi.yaml, relative to this package's directory
// (where go test runs it).
var openAPIPath = filepath.Join("..", "docs", "openapi.yaml")

// openAPIMethods are the operation keys of an OpenAPI path item.
var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// TestOpenAPIMatchesRoutes checks that docs/openapi.yaml documents exactly the
// routes the server serves: every (method, path) the router answers has an
// operation, and every operation is answered by a route.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	spec := loadOpenAPI(t)
	served := servedRoutes(t)
	documented := spec.operations(t)

	var undocumented, unserved []string
	for key := range served {
		if _, ok := documented[key]; !ok {
			undocumented = append(undocumented, key.String())
		}
	}
	for key := range documented {
		if _, ok := served[key]; !ok {
			unserved = append(unserved, key.String())
		}
	}
	slices.Sort(undocumented)
	slices.Sort(unserved)
	if len(undocumented) > 0 || len(unserved) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "%s and the router disagree:\n", openAPIPath)
		for _, r := range undocumented {
			fmt.Fprintf(&b, "  + %s  (served, not in openapi.yaml: document it)\n", r)
		}
		for _, r := range unserved {
			fmt.Fprintf(&b, "  - %s  (in openapi.yaml, not served: remove it or mount the route)\n", r)
		}
		t.Error(b.String())
	}
	if len(served) == 0 {
		t.Error("the router serves no routes with methods; the walk found nothing to compare")
	}
}

// TestOpenAPIDocument checks the document itself: it is OpenAPI 3.1, every
// operation has an operationId and at least one response, every local $ref
// resolves, every path template variable is declared as a path parameter, and
// the routes behind authentication say so.
func TestOpenAPIDocument(t *testing.T) {
	spec := loadOpenAPI(t)
	if v, _ := spec.root["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Errorf("openapi = %q, want 3.1.x", v)
	}
	for _, field := range []string{"info", "paths", "components"} {
		if _, ok := yamlMap(spec.root[field]); !ok {
			t.Errorf("document has no %s object", field)
		}
	}

	// Every local reference resolves.
	walkRefs(spec.root, "#", func(at, ref string) {
		if !strings.HasPrefix(ref, "#/") {
			t.Errorf("%s: $ref %q is not local to the document", at, ref)
			return
		}
		if _, ok := spec.resolvePointer(ref); !ok {
			t.Errorf("%s: $ref %q does not resolve", at, ref)
		}
	})

	served := servedRoutes(t)
	authenticated := authenticatedRoutes(t)
	operationIDs := map[string]openAPIRoute{}
	for key, op := range spec.operations(t) {
		id, _ := op.op["operationId"].(string)
		switch prev, dup := operationIDs[id]; {
		case id == "":
			t.Errorf("%s has no operationId", key)
		case dup:
			t.Errorf("%s and %s share operationId %q", prev, key, id)
		default:
			operationIDs[id] = key
		}

		responses, _ := yamlMap(op.op["responses"])
		if len(responses) == 0 {
			t.Errorf("%s has no responses", key)
		}
		for code := range responses {
			if !validOpenAPIResponseKey(code) {
				t.Errorf("%s: response key %q is not a status code, NXX or default", key, code)
			}
		}

		// Path parameters: exactly the template's variables, each required.
		want := pathTemplateVars(op.path)
		declared := map[string]bool{}
		for _, p := range op.parameters(t, spec) {
			if p["in"] != "path" {
				continue
			}
			name, _ := p["name"].(string)
			declared[name] = true
			if !slices.Contains(want, name) {
				t.Errorf("%s declares path parameter %q, not in the path", key, name)
			}
			if p["required"] != true {
				t.Errorf("%s: path parameter %q must be required: true", key, name)
			}
		}
		for _, name := range want {
			if !declared[name] {
				t.Errorf("%s does not declare path parameter %q", key, name)
			}
		}

		// Routes httpapi mounts sit behind its bearer authentication; the
		// server's own (health, metrics) do not.
		requiresBearer := spec.requiresBearer(op)
		switch _, mounted := authenticated[key]; {
		case !served[key]:
			// TestOpenAPIMatchesRoutes reports it.
		case mounted && !requiresBearer:
			t.Errorf("%s is behind bearer authentication, but its security does not require bearerAuth", key)
		case !mounted && requiresBearer:
			t.Errorf("%s needs no authentication, but its security requires bearerAuth (set security: [])", key)
		}
	}
}

// openAPIRoute is one operation: a method and a path template.
type openAPIRoute struct {
	method string
	path   string
}

func (k openAPIRoute) String() string { return k.method + " " + k.path }

// newServerRouter builds the router as cmd/checkoutd's serve does, without a
// database: the routes are walked, never served.
func newServerRouter(mountAPI bool) *mux.Router {
	logger := slog.New(slog.DiscardHandler)
	srv := httpserver.New(httpserver.Options{Addr: "127.0.0.1:0", Logger: logger})
	if mountAPI {
		api := httpapi.New(nil, nil, httpapi.Config{ServiceToken: "unused"}, logger)
		api.Mount(srv.Router())
		api.MountCheckout(srv.Router(), nil)
		api.MountOversold(srv.Router(), nil)
		api.MountAlerts(srv.Router(), nil)
		api.MountWebhooks(srv.Router(), nil, nil)
		api.MountPublic(srv.Router())
	}
	return srv.Router()
}

// servedRoutes walks the full router and returns its (method, path template)
// pairs. Routes without methods (subrouter prefixes) are left out.
func servedRoutes(t *testing.T) map[openAPIRoute]bool {
	t.Helper()
	return walkRouterRoutes(t, newServerRouter(true))
}

// authenticatedRoutes returns the routes httpapi's Mount adds: those the
// full router serves and the bare server router does not.
func authenticatedRoutes(t *testing.T) map[openAPIRoute]bool {
	t.Helper()
	routes := walkRouterRoutes(t, newServerRouter(true))
	for key := range walkRouterRoutes(t, newServerRouter(false)) {
		delete(routes, key)
	}
	// Stripe authenticates its webhooks with a signature, not a bearer token.
	delete(routes, openAPIRoute{method: "POST", path: "/webhooks/stripe"})
	// The public availability routes need no token at all.
	for key := range routes {
		if strings.HasPrefix(key.path, "/api/public/") {
			delete(routes, key)
		}
	}
	return routes
}

var muxVarPattern = regexp.MustCompile(`\{([^{}:]+):[^{}]*\}`)

func walkRouterRoutes(t *testing.T, r *mux.Router) map[openAPIRoute]bool {
	t.Helper()
	routes := map[openAPIRoute]bool{}
	err := r.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tmpl, err := route.GetPathTemplate()
		if err != nil {
			return nil // no path: nothing a client could call by path
		}
		methods, err := route.GetMethods()
		if err != nil {
			return nil // a subrouter prefix, not an endpoint
		}
		// {sku:[^/]+} in mux is {sku} in OpenAPI.
		tmpl = muxVarPattern.ReplaceAllString(tmpl, "{$1}")
		for _, m := range methods {
			routes[openAPIRoute{strings.ToUpper(m), tmpl}] = true
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk router: %v", err)
	}
	return routes
}

// openAPISpec is the parsed document, kept generic so that references can be
// followed anywhere in it.
type openAPISpec struct {
	root map[string]any
}

func loadOpenAPI(t *testing.T) *openAPISpec {
	t.Helper()
	data, err := os.ReadFile(openAPIPath)
	if err != nil {
		t.Fatalf("read OpenAPI document: %v", err)
	}
	var root map[string]any
	// yaml.v3 rejects duplicate keys, so a path or operation written twice
	// fails here rather than one copy silently winning.
	if err := yaml.Unmarshal(data, &root); err != nil {
		t.Fatalf("%s is not valid YAML: %v", openAPIPath, err)
	}
	if root == nil {
		t.Fatalf("%s is empty", openAPIPath)
	}
	return &openAPISpec{root: root}
}

// basePath is the path of the first server URL ("" for none or "/"), which
// prefixes every path of the document.
func (s *openAPISpec) basePath(t *testing.T) string {
	servers, _ := s.root["servers"].([]any)
	if len(servers) == 0 {
		return ""
	}
	server, _ := yamlMap(servers[0])
	raw, _ := server["url"].(string)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("servers[0].url %q: %v", raw, err)
	}
	return strings.TrimSuffix(u.Path, "/")
}

// specOperation is one operation of the document and where it sits.
type specOperation struct {
	path     string // as written in the document, without the server base path
	pathItem map[string]any
	op       map[string]any
}

// operations returns the document's operations by (method, full path).
func (s *openAPISpec) operations(t *testing.T) map[openAPIRoute]specOperation {
	t.Helper()
	paths, ok := yamlMap(s.root["paths"])
	if !ok {
		t.Fatalf("%s has no paths object", openAPIPath)
	}
	base := s.basePath(t)
	ops := map[openAPIRoute]specOperation{}
	for path, v := range paths {
		item, ok := yamlMap(v)
		if !ok {
			t.Errorf("paths[%q] is not an object", path)
			continue
		}
		if !strings.HasPrefix(path, "/") {
			t.Errorf("path %q does not start with /", path)
		}
		if _, ok := item["$ref"]; ok {
			t.Errorf("paths[%q] uses $ref; this test only reads inline path items", path)
		}
		found := false
		for _, m := range openAPIMethods {
			v, ok := item[m]
			if !ok {
				continue
			}
			op, ok := yamlMap(v)
			if !ok {
				t.Errorf("paths[%q].%s is not an object", path, m)
				continue
			}
			found = true
			ops[openAPIRoute{strings.ToUpper(m), base + path}] = specOperation{path: path, pathItem: item, op: op}
		}
		if !found {
			t.Errorf("paths[%q] has no operations", path)
		}
	}
	return ops
}

// parameters returns the operation's effective parameters: the path item's,
// overridden by the operation's of the same name and location, with
// references resolved.
func (o specOperation) parameters(t *testing.T, s *openAPISpec) []map[string]any {
	t.Helper()
	byKey := map[string]map[string]any{}
	var order []string
	for _, list := range []any{o.pathItem["parameters"], o.op["parameters"]} {
		items, _ := list.([]any)
		for _, v := range items {
			p, ok := s.deref(v)
			if !ok {
				t.Errorf("%s: parameter %v does not resolve to an object", o.path, v)
				continue
			}
			k := fmt.Sprint(p["in"], "/", p["name"])
			if _, seen := byKey[k]; !seen {
				order = append(order, k)
			}
			byKey[k] = p
		}
	}
	params := make([]map[string]any, 0, len(order))
	for _, k := range order {
		params = append(params, byKey[k])
	}
	return params
}

// requiresBearer reports whether every way of satisfying the operation's
// effective security requirement involves bearerAuth.
func (s *openAPISpec) requiresBearer(o specOperation) bool {
	sec, ok := o.op["security"]
	if !ok {
		sec = s.root["security"]
	}
	reqs, _ := sec.([]any)
	if len(reqs) == 0 {
		return false
	}
	for _, r := range reqs {
		m, _ := yamlMap(r)
		if _, ok := m["bearerAuth"]; !ok {
			return false // {} or another scheme: no bearer needed
		}
	}
	return true
}

// deref returns v as an object, following a local $ref.
func (s *openAPISpec) deref(v any) (map[string]any, bool) {
	for range 10 {
		m, ok := yamlMap(v)
		if !ok {
			return nil, false
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m, true
		}
		if v, ok = s.resolvePointer(ref); !ok {
			return nil, false
		}
	}
	return nil, false
}

// resolvePointer resolves a local JSON pointer ("#/components/schemas/X").
func (s *openAPISpec) resolvePointer(ref string) (any, bool) {
	ptr, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, false
	}
	var cur any = s.root
	if ptr == "" {
		return cur, true
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil, false
	}
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			m, ok := yamlMap(c)
			if !ok {
				return nil, false
			}
			if cur, ok = m[tok]; !ok {
				return nil, false
			}
		}
	}
	return cur, true
}

// walkRefs calls fn for every "$ref" string in v, with the pointer to where
// it sits.
func walkRefs(v any, at string, fn func(at, ref string)) {
	switch c := v.(type) {
	case []any:
		for i, e := range c {
			walkRefs(e, at+"/"+strconv.Itoa(i), fn)
		}
	default:
		m, ok := yamlMap(c)
		if !ok {
			return
		}
		for k, e := range m {
			if ref, ok := e.(string); ok && k == "$ref" {
				fn(at, ref)
				continue
			}
			// Examples are data, where "$ref" means nothing.
			if k == "example" || k == "examples" && !isExamplesMap(e) {
				continue
			}
			walkRefs(e, at+"/"+strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1"), fn)
		}
	}
}

// isExamplesMap tells a media type's or parameter's examples (a map of
// Example objects, which may be references) from a schema's examples (an
// array of values).
func isExamplesMap(v any) bool {
	_, ok := yamlMap(v)
	return ok
}

// yamlMap returns v as a map with string keys. YAML maps whose keys are not all
// strings (an unquoted 200 response code) decode as map[any]any.
func yamlMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, e := range m {
			out[fmt.Sprint(k)] = e
		}
		return out, true
	}
	return nil, false
}

var templateVarPattern = regexp.MustCompile(`\{([^{}]+)\}`)

func pathTemplateVars(path string) []string {
	var vars []string
	for _, m := range templateVarPattern.FindAllStringSubmatch(path, -1) {
		vars = append(vars, m[1])
	}
	return vars
}

var responseKeyPattern = regexp.MustCompile(`^([1-5][0-9][0-9]|[1-5]XX|default)$`)

func validOpenAPIResponseKey(k string) bool { return responseKeyPattern.MatchString(k) }
