package config

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// commentedSetting matches a commented-out "# NAME=example" line of
// .env.example: a variable with no default, shown with an example value.
var commentedSetting = regexp.MustCompile(`^#\s?([A-Z][A-Z0-9_]*=.*)$`)

// TestEnvExampleIsTruthful keeps .env.example in step with what Load does:
// every variable Load reads is there; one with a default is set to exactly
// that default, and one without is a commented-out example; the file, read
// as an env file, changes nothing; and every example is a value Load takes.
func TestEnvExampleIsTruthful(t *testing.T) {
	f, err := os.Open("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	active, err := ParseEnvFile(f, ".env.example")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	examples := map[string]string{}
	for line := range strings.Lines(string(raw)) {
		m := commentedSetting.FindStringSubmatch(strings.TrimRight(line, "\n"))
		if m == nil {
			continue
		}
		s, ok, err := parseEnvLine(m[1])
		if err != nil || !ok {
			t.Errorf(".env.example: commented-out %q does not parse: %v", m[1], err)
			continue
		}
		examples[s.Name] = s.Value
	}
	set := map[string]string{}
	for _, s := range active {
		set[s.Name] = s.Value
	}

	typ := reflect.TypeFor[env]()
	known := map[string]bool{}
	for i := range typ.NumField() {
		field := typ.Field(i)
		name := field.Tag.Get("envconfig")
		known[name] = true
		def, hasDefault := field.Tag.Lookup("default")
		value, isSet := set[name]
		example, isExample := examples[name]
		switch {
		case hasDefault && !isSet:
			t.Errorf(".env.example: %s has the default %q but no %s=%s line", name, def, name, def)
		case hasDefault && value != def:
			t.Errorf(".env.example: %s=%s, but its default is %q", name, value, def)
		case hasDefault && isExample:
			t.Errorf(".env.example: %s is both set and commented out", name)
		case !hasDefault && isSet:
			t.Errorf(".env.example: %s has no default, so it must be a commented-out example (# %s=...), not set to %q", name, name, value)
		case !hasDefault && (!isExample || example == ""):
			t.Errorf(".env.example: %s has no default: show it as a commented-out example, # %s=<example>", name, name)
		}
	}
	for name := range set {
		if !known[name] {
			t.Errorf(".env.example sets %s, which checkoutd does not read", name)
		}
	}
	for name := range examples {
		if !known[name] {
			t.Errorf(".env.example shows %s, which checkoutd does not read", name)
		}
	}

	setEnv(t, nil)
	defaults, err := Load()
	if err != nil {
		t.Fatalf("Load with nothing set: %v", err)
	}
	setEnv(t, set)
	fromFile, err := Load()
	if err != nil {
		t.Fatalf("Load with .env.example's settings: %v", err)
	}
	if !reflect.DeepEqual(fromFile, defaults) {
		t.Errorf("Load with .env.example's settings = %+v, want the defaults %+v", fromFile, defaults)
	}
	for name, value := range examples {
		set[name] = value
	}
	setEnv(t, set)
	if _, err := Load(); err != nil {
		t.Errorf("Load with every example of .env.example: %v", err)
	}
}
