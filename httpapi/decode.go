package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/internal/pgtext"
)

// decode reads the JSON body of r into v, strictly: application/json only,
// at most MaxBodyBytes, no unknown fields, nothing after the value. An empty
// body decodes as {}. It writes the error response itself and returns false
// when the body is not acceptable.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("request body exceeds %d bytes", MaxBodyBytes), nil)
		return false
	case err != nil:
		writeInvalid(w, []checkoutd.FieldIssue{{Field: "body", Issue: "could not be read"}})
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	if !isJSON(r.Header.Get("Content-Type")) {
		writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Type must be application/json", nil)
		return false
	}
	// encoding/json would quietly turn invalid UTF-8 into U+FFFD, storing
	// something other than what the client sent.
	if !utf8.Valid(body) {
		writeInvalid(w, []checkoutd.FieldIssue{{Field: "body", Issue: "is not valid UTF-8"}})
		return false
	}
	// It would do the same to an escaped half of a UTF-16 pair ("\ud800").
	if loneSurrogate(body) {
		writeInvalid(w, []checkoutd.FieldIssue{{Field: "body", Issue: "has a \\u escape of half a UTF-16 surrogate pair, which is no character"}})
		return false
	}
	// A request type that parses its usual body by hand (validate's, on
	// every cart) does so first; it says false when unsure.
	if p, ok := v.(plainParsing); ok && p.parsePlain(body) {
		return true
	}
	// The usual body, whose keys are all exact field names and whose
	// strings hold no NUL, is parsed once, straight into v. Any other, and
	// any that fails to decode, takes the full path below, which names
	// every problem; it gives the same verdict on a body the quick one
	// accepts, only slower.
	if plainBody(body, reflect.TypeOf(v)) && decodeInto(body, v) == nil {
		return true
	}
	return decodeChecked(w, body, v)
}

// loneSurrogate reports whether body, JSON, escapes a UTF-16 surrogate
// (\ud800 to \udfff) other than as a high one followed at once by a low
// one: a pair is one character, anything else none.
func loneSurrogate(body []byte) bool {
	for i := bytes.IndexByte(body, '\\'); i >= 0 && i < len(body)-1; {
		if body[i+1] != 'u' {
			i = nextBackslash(body, i+2)
			continue
		}
		r, ok := hex4(body, i+2)
		switch {
		case !ok || r < 0xd800 || r > 0xdfff:
		case r >= 0xdc00:
			return true
		default:
			low, ok := rune(0), len(body) >= i+12 && body[i+6] == '\\' && body[i+7] == 'u'
			if ok {
				low, ok = hex4(body, i+8)
			}
			if !ok || low < 0xdc00 || low > 0xdfff {
				return true
			}
			i += 6
		}
		i = nextBackslash(body, i+6)
	}
	return false
}

// nextBackslash is the index of the first backslash in body from i on, or
// -1.
func nextBackslash(body []byte, i int) int {
	if i >= len(body) {
		return -1
	}
	j := bytes.IndexByte(body[i:], '\\')
	if j < 0 {
		return -1
	}
	return i + j
}

// hex4 decodes the four hex digits of a \u escape at body[i:].
func hex4(body []byte, i int) (rune, bool) {
	if i+4 > len(body) {
		return 0, false
	}
	var r rune
	for _, c := range body[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// plainParsing is a request type whose usual bodies parsePlain parses by
// hand, into the value encoding/json would give, reporting false (and
// leaving the value alone) for any other body.
type plainParsing interface {
	parsePlain(body []byte) bool
}

// isJSON reports whether a Content-Type names application/json, asking
// mime only when it is not exactly that.
func isJSON(contentType string) bool {
	if contentType == "application/json" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// decodeChecked decodes body, valid UTF-8 JSON of a request, into v with
// every check, writing the error response and returning false when the
// body is not acceptable.
func decodeChecked(w http.ResponseWriter, body []byte, v any) bool {
	// encoding/json matches field names regardless of case; the contract's
	// are camelCase and exact, so "SKU" is as unknown as "foo". Checked
	// first so that every unknown field is named with its full path. Every
	// string is held to pgtext's rule here, once for every field of every
	// route, so that none the database cannot store reaches it.
	var tree any
	if json.Unmarshal(body, &tree) == nil {
		issues := unknownFields(tree, reflect.TypeOf(v), "")
		issues = append(issues, nonText(tree, "")...)
		if len(issues) > 0 {
			writeInvalid(w, issues)
			return false
		}
	}
	switch err := decodeInto(body, v); {
	case errors.Is(err, errTrailingData):
		writeInvalid(w, []checkoutd.FieldIssue{{Field: "body", Issue: "must hold a single JSON object"}})
		return false
	case err != nil:
		writeInvalid(w, []checkoutd.FieldIssue{jsonIssue(err, body)})
		return false
	}
	return true
}

// decodeInto decodes body, a single JSON value, into v, refusing fields v
// does not have.
func decodeInto(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	// Token, not More: More reports false for a stray "}" or "]".
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errTrailingData
	}
	return nil
}

var errTrailingData = errors.New("data after the JSON value")

// plainBody reports, without decoding it, that body is one the full checks
// of decode would find nothing wrong with if it decodes into t: every
// object key is, byte for byte and without escapes, the JSON name of a
// field of some struct t holds, and no string has a NUL (in valid UTF-8
// JSON only the escape \u0000 makes one). A key that is exact somewhere
// in t and decodes without an unknown-field error names a field of its own
// struct exactly, unless two of t's names differ only in case, which
// plainNames rules out. When unsure it says false, and decode takes the
// full path.
func plainBody(body []byte, t reflect.Type) bool {
	names, ok := plainNames(t)
	if !ok {
		return false
	}
	for i := 0; i < len(body); i++ {
		if body[i] != '"' {
			continue
		}
		start, escaped := i+1, false
		for i++; i < len(body) && body[i] != '"'; i++ {
			if body[i] == '\\' {
				escaped = true
				if bytes.HasPrefix(body[i+1:], []byte("u0000")) {
					return false
				}
				i++
			}
		}
		if i >= len(body) {
			return false
		}
		str := body[start:i]
		j := i + 1
		for j < len(body) && (body[j] == ' ' || body[j] == '\t' || body[j] == '\n' || body[j] == '\r') {
			j++
		}
		if j < len(body) && body[j] == ':' && (escaped || !names[string(str)]) {
			return false
		}
	}
	return true
}

// plainNamesCache holds plainNames' answer per type: the types are the
// handlers' few request types, and the answer never changes.
var plainNamesCache sync.Map

type plainNamesResult struct {
	names map[string]bool
	ok    bool
}

// plainNames returns the JSON names of the fields of every struct t holds,
// and false if plainBody cannot vouch for t's bodies: t holds a map of other
// than strings, an interface or a type that decodes itself (which take keys
// of their own),
// or two of its names are equal but for case.
func plainNames(t reflect.Type) (map[string]bool, bool) {
	if r, ok := plainNamesCache.Load(t); ok {
		res := r.(plainNamesResult)
		return res.names, res.ok
	}
	names := map[string]bool{}
	ok := collectNames(t, names, map[reflect.Type]bool{})
	if ok {
		folded := map[string]bool{}
		for name := range names {
			f := strings.ToLower(name)
			if folded[f] || !isASCII(name) {
				ok = false
			}
			folded[f] = true
		}
	}
	plainNamesCache.Store(t, plainNamesResult{names, ok})
	return names, ok
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

func collectNames(t reflect.Type, names map[string]bool, seen map[reflect.Type]bool) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if seen[t] {
		return true
	}
	seen[t] = true
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return false
	}
	switch t.Kind() {
	case reflect.Struct:
		for name, ft := range jsonFields(t) {
			names[name] = true
			if !collectNames(ft, names, seen) {
				return false
			}
		}
	case reflect.Slice, reflect.Array:
		return collectNames(t.Elem(), names, seen)
	case reflect.Map:
		// A map of strings keeps its keys as sent, with no field to match
		// case-insensitively; a body whose map keys are not among t's names
		// still takes the full path.
		return t.Key().Kind() == reflect.String && t.Elem().Kind() == reflect.String
	case reflect.Interface:
		return false
	}
	return true
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// unknownFields lists the object keys in tree that name no field of t
// exactly, with their paths (items[2].sku).
func unknownFields(tree any, t reflect.Type, path string) []checkoutd.FieldIssue {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var issues []checkoutd.FieldIssue
	switch node := tree.(type) {
	case map[string]any:
		if t.Kind() != reflect.Struct {
			return nil
		}
		fields := jsonFields(t)
		for key, value := range node {
			p := key
			if path != "" {
				p = path + "." + key
			}
			ft, ok := fields[key]
			if !ok {
				issues = append(issues, checkoutd.FieldIssue{Field: p, Issue: "is not a known field"})
				continue
			}
			issues = append(issues, unknownFields(value, ft, p)...)
		}
	case []any:
		if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
			return nil
		}
		for i, value := range node {
			issues = append(issues, unknownFields(value, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	sort.Slice(issues, func(i, j int) bool { return issues[i].Field < issues[j].Field })
	return issues
}

// nonText lists the strings in tree, keys and values, that PostgreSQL's
// text cannot hold (a NUL, written \u0000 in JSON), with their paths.
func nonText(tree any, path string) []checkoutd.FieldIssue {
	var issues []checkoutd.FieldIssue
	switch node := tree.(type) {
	case string:
		if !pgtext.Valid(node) {
			issues = append(issues, checkoutd.FieldIssue{Field: fieldName(path), Issue: pgtext.Issue})
		}
	case map[string]any:
		keys := make([]string, 0, len(node))
		for key := range node {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		for _, key := range keys {
			p := key
			if path != "" {
				p = path + "." + key
			}
			if !pgtext.Valid(key) {
				issues = append(issues, checkoutd.FieldIssue{Field: p, Issue: "is not a valid field name"})
				continue
			}
			issues = append(issues, nonText(node[key], p)...)
		}
	case []any:
		for i, value := range node {
			issues = append(issues, nonText(value, fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	return issues
}

func fieldName(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

// jsonFields maps the JSON names of t's fields, embedded structs' included,
// to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
		case f.Anonymous && name == "":
			for k, v := range jsonFields(f.Type) {
				fields[k] = v
			}
		case f.IsExported():
			if name == "" {
				name = f.Name
			}
			fields[name] = f.Type
		}
	}
	return fields
}

// jsonIssue turns a decoding error of body into a field and what is wrong
// with it, without echoing the Go types involved.
func jsonIssue(err error, body []byte) checkoutd.FieldIssue {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return checkoutd.FieldIssue{Field: "body", Issue: fmt.Sprintf("is not valid JSON (at byte %d)", syntax.Offset)}
	case errors.As(err, &typ):
		field := typ.Field
		if path, ok := valuePathAt(body, typ.Offset); ok && lastName(path) == lastName(field) {
			field = path
		}
		if field == "" {
			field = "body"
		}
		return checkoutd.FieldIssue{Field: field, Issue: "must be " + jsonKind(typ.Type.Kind().String())}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return checkoutd.FieldIssue{Field: "body", Issue: "is truncated JSON"}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return checkoutd.FieldIssue{Field: strings.Trim(name, `"`), Issue: "is not a known field"}
	}
	return checkoutd.FieldIssue{Field: "body", Issue: "is not a valid request"}
}

// valuePathAt returns the path (items[3].quantity, the syntax of every other
// issue) of the value in body that an UnmarshalTypeError at offset is about.
// The error's own Field drops array indices (items.quantity), which leaves a
// client with 100 items to guess; its Offset pins the value down: encoding/json
// reports a literal at its end and an array or object just after its opening
// bracket, exactly where a Decoder stands once it has read that token.
func valuePathAt(body []byte, offset int64) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var walk func(path string) (string, bool, error)
	walk = func(path string) (string, bool, error) {
		tok, err := dec.Token()
		if err != nil {
			return "", false, err
		}
		if dec.InputOffset() == offset {
			return path, true, nil
		}
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				key, err := dec.Token()
				if err != nil {
					return "", false, err
				}
				name, _ := key.(string)
				p := name
				if path != "" {
					p = path + "." + name
				}
				if found, ok, err := walk(p); ok || err != nil {
					return found, ok, err
				}
			}
			_, err = dec.Token()
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if found, ok, err := walk(fmt.Sprintf("%s[%d]", path, i)); ok || err != nil {
					return found, ok, err
				}
			}
			_, err = dec.Token()
		}
		return "", false, err
	}
	path, ok, _ := walk("")
	return path, ok
}

// lastName is the last field name of a path, without any array index:
// quantity for items[3].quantity, items for items[3].
func lastName(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		path = path[i+1:]
	}
	name, _, _ := strings.Cut(path, "[")
	return name
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int32", "int64":
		return "an integer"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return "of another type"
}
