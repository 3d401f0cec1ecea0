package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMakefileTargets: make help lists every documented target, names with
// digits included (bench-llama2c was hidden), and make golden, which the
// README documents, has a recipe that runs the reference script.
func TestMakefileTargets(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("make is not installed")
		}
		t.Skip("make is not installed")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, line := range strings.Split(string(data), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if ok && !strings.ContainsAny(name, " \t$=") && strings.Contains(rest, "## ") {
			targets = append(targets, name)
		}
	}
	if len(targets) < 10 {
		t.Fatalf("found only %d documented targets: %v", len(targets), targets)
	}
	help, err := exec.Command("make", "-s", "-C", root, "help").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range targets {
		if !strings.Contains(string(help), "  "+name+" ") {
			t.Errorf("make help does not list %s:\n%s", name, help)
		}
	}
	dry, err := exec.Command("make", "-n", "-C", root, "golden").Output()
	if err != nil || !strings.Contains(string(dry), "testdata/reference/reference_logits.py") {
		t.Errorf("make -n golden: %v\n%s", err, dry)
	}
}

// TestReadmeTourMakesItsFiles: every file the README tour feeds to a
// command is either a model from "Where to get models" or written by an
// earlier line of the tour (story.txt appeared from nowhere).
func TestReadmeTourMakesItsFiles(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, tour, ok := strings.Cut(string(data), "## A tour of the CLI\n\n```sh\n")
	if !ok {
		t.Fatal("README has no tour")
	}
	tour, _, _ = strings.Cut(tour, "```")
	written := map[string]bool{}
	for _, line := range strings.Split(tour, "\n") {
		cmd, _, _ := strings.Cut(line, "#")
		fields := strings.Fields(cmd)
		for i, f := range fields {
			switch {
			case f == ">" && i+1 < len(fields):
				written[fields[i+1]] = true
			case (f == "-o" || f == "--output") && i+1 < len(fields):
				written[fields[i+1]] = true
			}
		}
		for i, f := range fields {
			if strings.HasSuffix(f, ".txt") && (i == 0 || fields[i-1] != ">") && !written[f] {
				t.Errorf("the tour reads %s before any line writes it: %q", f, line)
			}
		}
	}
}
