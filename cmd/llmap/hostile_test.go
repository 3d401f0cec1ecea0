package main

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/llmap/llmap/internal/testmodels"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// hostileValues are given to every flag of every command.
var hostileValues = []string{
	"NaN", "Inf", "+Inf", "-Inf", // not finite
	"-1", "0", // negative, zero
	"9223372036854775807", "99999999999999999999", "1e400", // huge: in range of int64 or float32, and beyond
	"", "abc", // empty, not a number
}

// hostileAccepted lists, by "command --flag", the hostile values a flag
// legitimately accepts: with them the command may succeed (and must still
// not panic). "*" accepts every value. Every other value must be refused.
// A new flag has no entry, so every hostile value must be refused for it
// until an entry says which are meant to work.
var hostileAccepted = map[string][]string{
	"llmap --version": {"0"}, // false
	"llmap --help":    {"0"},

	"run --prompt":      {"*"},                                                // any text is a prompt
	"run --steps":       {"0", "9223372036854775807"},                         // 0, or more than the context: up to its end
	"run --temp":        {"0", "9223372036854775807", "99999999999999999999"}, // greedy; a huge temperature samples uniformly
	"run --top-p":       {"0"},                                                // off
	"run --top-k":       {"0", "9223372036854775807"},                         // off; more than the vocabulary is all of it
	"run --seed":        {"0", "9223372036854775807"},                         // 0 = from the clock
	"run --ctx":         {"9223372036854775807"},                              // capped at the model's, with a line saying so
	"run --threads":     {"0", "9223372036854775807"},                         // one per CPU; capped at the CPUs, with a line
	"run --mem-budget":  {""},                                                 // no budget
	"run --mlock":       {"0"},                                                // false
	"run --no-mmap":     {"0"},                                                //
	"run --no-prefetch": {"0"},                                                //
	"run --no-refold":   {"0"},                                                //
	"run --stats":       {"0"},                                                //
	"run --verify":      {"0"},                                                //
	"run --help":        {"0"},                                                //
	"run --cpuprofile":  {"*"},                                                // file names
	"run --memprofile":  {"*"},                                                //
	"run --trace":       {"*"},                                                //
	"run --pprof":       {""},                                                 // off; the others are not addresses

	"convert --output":     {"*"}, // file names
	"convert --quant":      {""},  // as stored
	"convert --help":       {"0"},
	"convert --cpuprofile": {"*"},
	"convert --memprofile": {"*"},
	"convert --trace":      {"*"},
	"convert --pprof":      {""},

	"inspect --help":       {"0"},
	"verify --help":        {"0"},
	"tokenize --file":      {""}, // not given: the text is an argument
	"tokenize --tokenizer": {""}, // not given: the model's
	"tokenize --no-bos":    {"0"},
	"tokenize --help":      {"0"},
	"embed --threads":      {"0", "9223372036854775807"},
	"embed --help":         {"0"},
	"embed --pairs":        {""}, // no arrows

	"next --prompt":  {"*"},
	"next --temp":    {"0", "9223372036854775807", "99999999999999999999"},
	"next --threads": {"0", "9223372036854775807"},
	"next --help":    {"0"},

	"synth --output":   {"*"},                        // file names
	"synth --seed":     {"0", "9223372036854775807"}, // any seed
	"synth --dim":      {"0"},                        // 0 = the shape's value
	"synth --hidden":   {"0"},
	"synth --layers":   {"0"},
	"synth --heads":    {"0"},
	"synth --kv-heads": {"0"},
	"synth --vocab":    {"0"},
	"synth --ctx":      {"0"},
	"synth --help":     {"0"},

	"bench --threads":    {"9223372036854775807"}, // capped at the CPUs, with a line
	"bench --prompt":     {"0"},                   // no pp test
	"bench --gen":        {"0"},                   // no tg test
	"bench --depth":      {"0"},                   // no context before the tests
	"bench --no-mmap":    {"0"},                   // false
	"bench --no-refold":  {"0"},                   // false
	"bench --help":       {"0"},
	"bench --cpuprofile": {"*"},
	"bench --memprofile": {"*"},
	"bench --trace":      {"*"},
	"bench --pprof":      {""},

	"perplexity --ctx":        {"9223372036854775807"}, // capped, with a line
	"perplexity --threads":    {"0", "9223372036854775807"},
	"perplexity --ref":        {""}, // no reference
	"perplexity --help":       {"0"},
	"perplexity --cpuprofile": {"*"},
	"perplexity --memprofile": {"*"},
	"perplexity --trace":      {"*"},
	"perplexity --pprof":      {""},

	"version --help": {"0"},

	"chat --system":      {"*"},                                                // any text
	"chat --ctx":         {"9223372036854775807"},                              // capped at the model's, with a line
	"chat --temp":        {"0", "9223372036854775807", "99999999999999999999"}, // as run
	"chat --top-p":       {"0"},                                                // off
	"chat --top-k":       {"0", "9223372036854775807"},                         // off; all of the vocabulary
	"chat --seed":        {"0", "9223372036854775807"},                         // 0 = from the clock
	"chat --max-tokens":  {"0", "9223372036854775807"},                         // to the end of the context
	"chat --threads":     {"0", "9223372036854775807"},                         // one per CPU; capped, with a line
	"chat --verbose":     {"0"},                                                // false
	"chat --no-template": {"0"},                                                //
	"chat --help":        {"0"},                                                //

	"serve --name":        {"*"},                        // any name
	"serve --ctx":         {"9223372036854775807"},      // capped at the model's, with a line
	"serve --queue":       {"0"},                        // 4 x --parallel
	"serve --max-tokens":  {"0", "9223372036854775807"}, // to the end of the context; capped by it
	"serve --threads":     {"0", "9223372036854775807"}, // one per CPU; capped, with a line
	"serve --grace":       {"0"},                        // cancel at once
	"serve --quiet":       {"0"},                        // false
	"serve --no-explorer": {"0"},                        //
	"serve --help":        {"0"},                        //
}

// hostileOutputs are the flags whose value names a file the command
// writes: with an accepted value, that file may appear.
var hostileOutputs = map[string]bool{"--cpuprofile": true, "--memprofile": true, "--trace": true, "--output": true}

// TestHostileFlags is the standing guard: every flag of every command,
// found by walking the command tree (so new flags join by themselves),
// gets each hostile value. A refused value must give exit status 1 or 2,
// exactly one line on stderr, nothing on stdout, no file created; an
// accepted one (hostileAccepted) may succeed. Nothing may panic.
func TestHostileFlags(t *testing.T) {
	model := stories260K(t)
	inputs := t.TempDir()
	text := filepath.Join(inputs, "story.txt")
	if err := os.WriteFile(text, []byte("Once upon a time there was a dog."), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := testmodels.Path(t, "stories260K/stories260K.bin")
	tok := testmodels.Path(t, "stories260K/tok512.bin")
	// base gives each command a quick invocation that succeeds, so that
	// the flag under test is what decides the outcome.
	base := map[string][]string{
		"llmap":      {},
		"run":        {"run", model, "-n", "4"},
		"convert":    {"convert", "--tokenizer", tok, "-o", "out.llmap", bin},
		"inspect":    {"inspect", model},
		"verify":     {"verify", model},
		"tokenize":   {"tokenize", model, "Once"},
		"embed":      {"embed", model, "nearest", "cat"},
		"next":       {"next", model, "-p", "Once"},
		"synth":      {"synth", "--shape", "stories260K", "-o", "out.llmap"},
		"bench":      {"bench", model, "-p", "4", "-n", "4", "-r", "1"},
		"perplexity": {"perplexity", model, text},
		"version":    {"version"},
		// chat answers one message given as an argument; serve --dry-run
		// allocates and exits, and without it cannot listen on a TEST-NET
		// address, so that no value leaves a server running.
		"chat":  {"chat", model, "Hello", "-n", "4"},
		"serve": {"serve", model, "--dry-run", "--addr", "192.0.2.1:8080"},
	}
	// more gives a command further invocations whose flags differ, so
	// that each action's own flags meet the hostile values too.
	more := map[string][][]string{
		"embed": {{"embed", model, "map", "cat", "dog", "--pairs", "cat:dog", "--pca", "vocab", "-o", "map.svg"}},
	}
	root := newRoot(nil, nil)
	cmds := append([]*cobra.Command{root}, root.Commands()...)
	dir := t.TempDir()
	t.Chdir(dir)
	runs := 0
	for _, c := range cmds {
		name := c.Name()
		args, ok := base[name]
		if !ok {
			t.Errorf("command %s has no base invocation in TestHostileFlags", name)
			continue
		}
		c.InitDefaultHelpFlag()
		if c == root {
			c.InitDefaultVersionFlag()
		}
		// Only a base invocation without the flag under test is valid.
		for _, args := range append([][]string{args}, more[name]...) {
			c.LocalFlags().VisitAll(func(f *pflag.Flag) {
				key := name + " --" + f.Name
				argv := withoutFlag(args, f)
				for _, v := range hostileValues {
					runs++
					stdout, stderr, code := llmapRecover(t, append(slices.Clone(argv), "--"+f.Name+"="+v)...)
					where := key + "=" + v
					// A crash's trace goes to stderr; stdout may be a story
					// that says "panic" (noasm's run --steps=0 once did).
					if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
						t.Errorf("%s: crashed:\n%s%s", where, stdout, stderr)
					}
					created := newFiles(t, dir)
					acc := hostileAccepted[key]
					if code == 0 && (slices.Contains(acc, v) || slices.Contains(acc, "*")) {
						if len(created) > 0 && !hostileOutputs["--"+f.Name] && !slices.Contains(args, "-o") {
							t.Errorf("%s: created %v", where, created)
						}
						continue
					}
					if code != 1 && code != 2 {
						t.Errorf("%s: exit %d, want 1 or 2 (or list the value in hostileAccepted)\nstderr: %s", where, code, stderr)
					}
					if strings.Count(stderr, "\n") != 1 || stdout != "" {
						t.Errorf("%s: want one line on stderr and nothing on stdout, got stderr %q, stdout %q", where, stderr, stdout)
					}
					if len(created) > 0 {
						t.Errorf("%s: refused, but created %v", where, created)
					}
				}
			})
		}
	}
	t.Logf("%d runs", runs)
}

// withoutFlag drops f and its value from args.
func withoutFlag(args []string, f *pflag.Flag) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if args[i] == "--"+f.Name || (f.Shorthand != "" && args[i] == "-"+f.Shorthand) {
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// newFiles lists the entries of dir (the working directory of the runs)
// and empties it, so that every run starts from an empty directory.
func newFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
	sort.Strings(names)
	return names
}

// llmapRecover is llmap with a recovered panic reported as output, so that
// one crash fails its case instead of the whole test binary.
func llmapRecover(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			stderr += "panic: " + strings.TrimSpace(strings.ReplaceAll(strings.Join(args, " "), "\n", " ")) + ": " + toString(r)
			code = -1
		}
	}()
	return llmap(t, args...)
}

func toString(v any) string {
	if err, ok := v.(error); ok {
		return err.Error()
	}
	if s, ok := v.(string); ok {
		return s
	}
	return "non-string panic"
}
