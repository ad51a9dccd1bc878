// Package examples_test keeps the examples and their README in step: every
// example is listed, says how to run it, is tested, and documents every
// environment variable it reads.
package examples_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// envRead matches the variables a program reads through run's env function.
var envRead = regexp.MustCompile(`\benv\("([A-Z0-9_]+)"\)`)

func TestExamplesAreDocumented(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		name := d.Name()
		n++
		t.Run(name, func(t *testing.T) {
			row := readmeRow(string(readme), name)
			if row == "" {
				t.Fatalf("README.md has no table row for [%s](%s/)", name, name)
			}
			files, _ := filepath.Glob(filepath.Join(name, "*.go"))
			var src strings.Builder
			hasTest := false
			for _, f := range files {
				if strings.HasSuffix(f, "_test.go") {
					hasTest = true
					continue
				}
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				src.Write(b)
			}
			main, err := os.ReadFile(filepath.Join(name, "main.go"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(main), "go run ./examples/"+name) {
				t.Errorf("main.go's doc does not say `go run ./examples/%s`", name)
			}
			if !hasTest {
				t.Errorf("no main_test.go")
			}
			if name == "quickstart" { // emulated only: it reads no environment
				return
			}
			var vars []string
			for _, m := range envRead.FindAllStringSubmatch(src.String(), -1) {
				if !slices.Contains(vars, m[1]) {
					vars = append(vars, m[1])
				}
			}
			if len(vars) == 0 {
				t.Fatal("reads no environment variable: is its logic in run(ctx, out, env)?")
			}
			for _, v := range vars {
				if !strings.Contains(row, "`"+v+"`") {
					t.Errorf("reads %s, which its README row does not list", v)
				}
				if !strings.Contains(string(main), v) {
					t.Errorf("reads %s, which main.go's doc does not mention", v)
				}
			}
		})
	}
	if n < 8 {
		t.Errorf("found %d examples, want at least 8", n)
	}
}

// readmeRow returns the table row that links the example, or "".
func readmeRow(readme, name string) string {
	for line := range strings.Lines(readme) {
		if strings.HasPrefix(line, "| ["+name+"]("+name+"/)") {
			return line
		}
	}
	return ""
}
