package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseEnvFile(t *testing.T) {
	t.Parallel()
	in := "\ufeff# comment\n" +
		"\n" +
		"PLAIN=value\n" +
		"  SPACED  =  two words  \n" +
		"export EXPORTED=1\n" +
		"EMPTY=\n" +
		"COMMENTED=abc # a note\n" +
		"HASH=a#b\n" +
		`DOUBLE="a \"b\" \\ \$x\n\tc" # note` + "\n" +
		"SINGLE='$x \\n \"q\"'\n" +
		"URL=postgres://u:p@h:5432/d?sslmode=disable\n" +
		"exported=lower\n"
	got, err := ParseEnvFile(strings.NewReader(in), "test.env")
	if err != nil {
		t.Fatalf("ParseEnvFile: %v", err)
	}
	want := []Setting{
		{"PLAIN", "value", 3},
		{"SPACED", "two words", 4},
		{"EXPORTED", "1", 5},
		{"EMPTY", "", 6},
		{"COMMENTED", "abc", 7},
		{"HASH", "a#b", 8},
		{"DOUBLE", "a \"b\" \\ $x\n\tc", 9},
		{"SINGLE", `$x \n "q"`, 10},
		{"URL", "postgres://u:p@h:5432/d?sslmode=disable", 11},
		{"exported", "lower", 12},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseEnvFile =\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseEnvFileRejects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ line, want string }{
		{"JUST_A_NAME", `bad.env:2: want NAME=value, got "JUST_A_NAME"`},
		{"1ABC=x", `bad.env:2: "1ABC" is not a variable name`},
		{"A-B=x", `bad.env:2: "A-B" is not a variable name`},
		{"=x", `bad.env:2: "" is not a variable name`},
		{`A="open`, "bad.env:2: A: unterminated double quote"},
		{"A='open", "bad.env:2: A: unterminated single quote"},
		{`A="x" y`, `bad.env:2: A: unexpected "y" after the closing quote`},
		{`A="\q"`, `bad.env:2: A: unknown escape \q`},
		{`A=it's`, "bad.env:2: A: quote in an unquoted value"},
		{"OK=1", "bad.env:2: OK is already set on line 1"},
	} {
		_, err := ParseEnvFile(strings.NewReader("OK=1\n"+tc.line+"\n"), "bad.env")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseEnvFile(%q) = %v, want an error containing %q", tc.line, err, tc.want)
		}
	}
}

func TestParseEnvFileReportsEveryBadLine(t *testing.T) {
	t.Parallel()
	_, err := ParseEnvFile(strings.NewReader("A\nB=1\nC\n"), ".env")
	if err == nil || err.Error() != ".env:1: want NAME=value, got \"A\"\n.env:3: want NAME=value, got \"C\"" {
		t.Errorf("ParseEnvFile = %v, want lines 1 and 3 reported", err)
	}
}

// TestLoadEnvFile cannot run in parallel: it sets the process environment.
func TestLoadEnvFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	if err := os.WriteFile(path, []byte("CHECKOUTD_TEST_FROM_FILE=file\nCHECKOUTD_TEST_IN_ENV=file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CHECKOUTD_TEST_IN_ENV", "env")
	t.Setenv("CHECKOUTD_TEST_FROM_FILE", "")
	os.Unsetenv("CHECKOUTD_TEST_FROM_FILE")

	if err := LoadEnvFile(path, true); err != nil {
		t.Fatalf("LoadEnvFile: %v", err)
	}
	if got := os.Getenv("CHECKOUTD_TEST_FROM_FILE"); got != "file" {
		t.Errorf("CHECKOUTD_TEST_FROM_FILE = %q, want the file's value", got)
	}
	if got := os.Getenv("CHECKOUTD_TEST_IN_ENV"); got != "env" {
		t.Errorf("CHECKOUTD_TEST_IN_ENV = %q, want the environment's value to win", got)
	}

	missing := filepath.Join(dir, "missing.env")
	if err := LoadEnvFile(missing, false); err != nil {
		t.Errorf("LoadEnvFile(missing, not required) = %v, want nil", err)
	}
	if err := LoadEnvFile(missing, true); err == nil {
		t.Error("LoadEnvFile(missing, required) = nil, want an error")
	}

	bad := filepath.Join(dir, "bad.env")
	if err := os.WriteFile(bad, []byte("CHECKOUTD_TEST_BAD=1\nnonsense\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CHECKOUTD_TEST_BAD", "")
	os.Unsetenv("CHECKOUTD_TEST_BAD")
	if err := LoadEnvFile(bad, false); err == nil || !strings.Contains(err.Error(), "bad.env:2:") {
		t.Errorf("LoadEnvFile(bad) = %v, want an error naming bad.env:2", err)
	}
	if _, set := os.LookupEnv("CHECKOUTD_TEST_BAD"); set {
		t.Error("a file with a bad line set some of its variables; want none")
	}
}
