package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// listedPackage is the part of `go list -json` the checker reads.
type listedPackage struct {
	ImportPath string
	Standard   bool
	Imports    []string
	Module     *struct{ Path string }
	Error      *struct{ Err string }
}

// loadGraph runs `go list -e -deps -json` (non-test imports only) over
// patterns in dir with the given build tags.
func loadGraph(dir, tags string, patterns []string) (Graph, error) {
	args := []string{"list", "-e", "-deps", "-json=ImportPath,Standard,Imports,Module,Error"}
	if tags != "" {
		args = append(args, "-tags="+tags)
	}
	args = append(args, patterns...)
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return parseGoList(bytes.NewReader(out))
}

// parseGoList reads the stream of JSON objects go list prints. A package
// with an error (a parse error, an import that resolves to nothing) makes
// the graph untrustworthy, so it is an error rather than a silent gap.
func parseGoList(r io.Reader) (Graph, error) {
	g := Graph{}
	var problems []error
	dec := json.NewDecoder(r)
	for {
		var p listedPackage
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading go list output: %w", err)
		}
		if p.Error != nil {
			problems = append(problems, fmt.Errorf("%s: %s", p.ImportPath, p.Error.Err))
		}
		n := Node{Imports: p.Imports, Standard: p.Standard}
		if p.Module != nil {
			n.Module = p.Module.Path
		}
		g[p.ImportPath] = n
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("go list reported broken packages; fix them first:\n%w", errors.Join(problems...))
	}
	return g, nil
}

// modulePath asks go for the main module's path in dir.
func modulePath(dir string) (string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Path}}")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list -m in %s: %w\n%s", dir, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}
