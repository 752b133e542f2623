package config

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// DefaultEnvFile is the file LoadEnvFile reads when no other is named: .env
// in the working directory, as most tools that read one look for it.
const DefaultEnvFile = ".env"

// EnvFileVariable names the environment variable that points checkoutd at
// another env file, like the --env-file flag.
const EnvFileVariable = "CHECKOUTD_ENV_FILE"

// Setting is one KEY=VALUE line of an env file.
type Setting struct {
	// Name is the variable's name.
	Name string
	// Value is its value with quotes and escapes resolved.
	Value string
	// Line is where it stands in the file, counting from 1.
	Line int
}

// LoadEnvFile sets, from the env file at path, every variable the
// environment does not already hold: a value set by the shell or the
// service manager wins over the file, so one command line can override a
// setting without editing it. A missing file is no error unless required.
// Every malformed line is reported, as path:line.
func LoadEnvFile(path string, required bool) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && !required {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read env file: %w", err)
	}
	defer f.Close()
	settings, err := ParseEnvFile(f, path)
	if err != nil {
		return err
	}
	for _, s := range settings {
		if _, set := os.LookupEnv(s.Name); set {
			continue
		}
		if err := os.Setenv(s.Name, s.Value); err != nil {
			return fmt.Errorf("%s:%d: set %s: %w", path, s.Line, s.Name, err)
		}
	}
	return nil
}

// ParseEnvFile reads the lines of an env file, which name is used in errors:
//
//	# a comment; blank lines are skipped too
//	NAME=value             # unquoted: surrounding spaces and a " #" comment dropped
//	export NAME=value      # the shell's export prefix is allowed
//	NAME="a \"b\"\n"       # double quotes: \" \\ \n \t \$ are escapes
//	NAME='literal $x \n'   # single quotes: nothing is special
//
// Nothing is expanded: $OTHER stays as written. A value spans one line. A
// line that is none of these, an unterminated quote, or a name given twice
// is an error naming name:line; all of them are reported at once.
func ParseEnvFile(r io.Reader, name string) ([]Setting, error) {
	var (
		settings []Setting
		problems []error
		seen     = map[string]int{}
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		s, ok, err := parseEnvLine(sc.Text())
		switch {
		case err != nil:
			problems = append(problems, fmt.Errorf("%s:%d: %w", name, n, err))
		case !ok:
		case seen[s.Name] != 0:
			problems = append(problems, fmt.Errorf("%s:%d: %s is already set on line %d", name, n, s.Name, seen[s.Name]))
		default:
			s.Line = n
			seen[s.Name] = n
			settings = append(settings, s)
		}
	}
	if err := sc.Err(); err != nil {
		problems = append(problems, fmt.Errorf("read %s: %w", name, err))
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return settings, nil
}

// parseEnvLine parses one line; ok is false for a blank or comment line.
func parseEnvLine(line string) (s Setting, ok bool, err error) {
	rest := strings.TrimSpace(strings.TrimPrefix(line, "\ufeff"))
	if rest == "" || strings.HasPrefix(rest, "#") {
		return Setting{}, false, nil
	}
	if after, found := strings.CutPrefix(rest, "export"); found && after != "" && (after[0] == ' ' || after[0] == '\t') {
		rest = strings.TrimSpace(after)
	}
	key, value, found := strings.Cut(rest, "=")
	key = strings.TrimSpace(key)
	if !found {
		return Setting{}, false, fmt.Errorf("want NAME=value, got %q", line)
	}
	if !validEnvName(key) {
		return Setting{}, false, fmt.Errorf("%q is not a variable name: use letters, digits and _, not starting with a digit", key)
	}
	v, err := parseEnvValue(strings.TrimSpace(value))
	if err != nil {
		return Setting{}, false, fmt.Errorf("%s: %w", key, err)
	}
	return Setting{Name: key, Value: v}, true, nil
}

// parseEnvValue resolves the quoting of the text after "=".
func parseEnvValue(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	switch v[0] {
	case '\'':
		end := strings.IndexByte(v[1:], '\'')
		if end < 0 {
			return "", errors.New("unterminated single quote")
		}
		return v[1 : end+1], trailing(v[end+2:])
	case '"':
		var b strings.Builder
		for i := 1; i < len(v); i++ {
			c := v[i]
			switch {
			case c == '"':
				return b.String(), trailing(v[i+1:])
			case c == '\\' && i+1 < len(v):
				i++
				switch v[i] {
				case 'n':
					b.WriteByte('\n')
				case 't':
					b.WriteByte('\t')
				case '"', '\\', '$':
					b.WriteByte(v[i])
				default:
					return "", fmt.Errorf(`unknown escape \%c in double quotes: use \" \\ \n \t or \$`, v[i])
				}
			default:
				b.WriteByte(c)
			}
		}
		return "", errors.New("unterminated double quote")
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = v[:i]
	} else if i := strings.Index(v, "\t#"); i >= 0 {
		v = v[:i]
	}
	v = strings.TrimSpace(v)
	if strings.ContainsAny(v, `"'`) {
		return "", errors.New("quote in an unquoted value: quote the whole value")
	}
	return v, nil
}

// trailing checks what follows a closing quote: nothing but a comment.
func trailing(s string) error {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "#") {
		return nil
	}
	return fmt.Errorf("unexpected %q after the closing quote", s)
}

func validEnvName(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}
