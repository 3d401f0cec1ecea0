package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmap/llmap/internal/testmodels"
)

// copyFile copies src to dst (mode 0644).
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// copyDir copies the files of src into a new directory dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		copyFile(t, filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()))
	}
}

// snapshot records every file under dir with its contents (symlinks by
// their target), to show that a refused command changed nothing.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			files[path] = "-> " + target
			return err
		case d.Type().IsRegular():
			data, err := os.ReadFile(path)
			files[path] = string(data)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestConvertNeverOverwritesItsInputs: an output path that is, or resolves
// to, a file convert reads, or that lies inside an input directory, is
// refused before anything is written (before the fix, most of these
// replaced the input with the .llmap and exited 0).
func TestConvertNeverOverwritesItsInputs(t *testing.T) {
	dir := t.TempDir()
	bin, tok := filepath.Join(dir, "m.bin"), filepath.Join(dir, "tk.bin")
	copyFile(t, testmodels.Path(t, "stories260K/stories260K.bin"), bin)
	copyFile(t, testmodels.Path(t, "stories260K/tok512.bin"), tok)
	// llama2.c's default tokenizer, read when --tokenizer is not given.
	l2c := filepath.Join(dir, "l2c")
	os.Mkdir(l2c, 0o755)
	copyFile(t, bin, filepath.Join(l2c, "model.bin"))
	copyFile(t, tok, filepath.Join(l2c, "tokenizer.bin"))

	hf := filepath.Join(dir, "hf")
	copyDir(t, testmodels.Path(t, "tiny-gpt2-random-lmbuddy"), hf)
	os.Mkdir(filepath.Join(hf, "sub"), 0o755)
	// A Hugging Face cache: the snapshot's files are symlinks into blobs/.
	blobs, snap := filepath.Join(dir, "cache", "blobs"), filepath.Join(dir, "cache", "snapshots", "abc")
	copyDir(t, hf, blobs)
	os.MkdirAll(snap, 0o755)
	for _, name := range []string{"config.json", "model.safetensors", "vocab.json", "merges.txt"} {
		if err := os.Symlink(filepath.Join("..", "..", "blobs", name), filepath.Join(snap, name)); err != nil {
			t.Fatal(err)
		}
	}
	// A JSON tokenizer reads merges.txt beside it.
	tokdir := filepath.Join(dir, "tokdir")
	os.Mkdir(tokdir, 0o755)
	copyFile(t, filepath.Join(hf, "vocab.json"), filepath.Join(tokdir, "vocab.json"))
	copyFile(t, filepath.Join(hf, "merges.txt"), filepath.Join(tokdir, "merges.txt"))

	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink("m.bin", filepath.Join(dir, "link.bin")))
	must(os.Symlink("tk.bin", filepath.Join(dir, "toklink.bin")))
	must(os.Link(tok, filepath.Join(dir, "hard.bin")))
	must(os.Symlink("hf", filepath.Join(dir, "hflink")))

	t.Chdir(dir)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"tokenizer as output", []string{"convert", "--tokenizer", "tk.bin", "-o", "tk.bin", "m.bin"}, "-o tk.bin is the tokenizer (--tokenizer tk.bin)"},
		{"tokenizer through ./", []string{"convert", "--tokenizer", "tk.bin", "-o", "./tk.bin", "m.bin"}, "is the tokenizer"},
		{"tokenizer through a symlink", []string{"convert", "--tokenizer", "tk.bin", "-o", "toklink.bin", "m.bin"}, "is the tokenizer"},
		{"tokenizer through a hard link", []string{"convert", "--tokenizer", "tk.bin", "-o", "hard.bin", "m.bin"}, "is the tokenizer"},
		{"input through a symlink", []string{"convert", "--tokenizer", "tk.bin", "-o", "link.bin", "m.bin"}, "is the input file"},
		{"input through an absolute path", []string{"convert", "--tokenizer", "tk.bin", "-o", bin, "m.bin"}, "is the input file"},
		{"default tokenizer.bin", []string{"convert", "-o", "l2c/tokenizer.bin", "l2c/model.bin"}, "is the tokenizer"},
		{"config.json of the input directory", []string{"convert", "-o", "hf/config.json", "hf"}, "config.json of the input directory hf"},
		{"safetensors of the input directory", []string{"convert", "-o", "hf/model.safetensors", "hf"}, "model.safetensors of the input directory hf"},
		{"new file inside the input directory", []string{"convert", "-o", "hf/new.llmap", "hf"}, "is inside the input directory hf"},
		{"subdirectory of the input directory", []string{"convert", "-o", "hf/sub/new.llmap", "hf"}, "is inside the input directory hf"},
		{"input directory through a symlink", []string{"convert", "-o", "hflink/new.llmap", "hf"}, "is inside the input directory hf"},
		{"input directory through ..", []string{"convert", "-o", "hf/sub/../new.llmap", "hf/"}, "is inside the input directory"},
		{"blob behind a cache symlink", []string{"convert", "-o", "cache/blobs/model.safetensors", "cache/snapshots/abc"}, "model.safetensors of the input directory"},
		{"merges.txt beside a JSON tokenizer", []string{"convert", "--tokenizer", "tokdir/vocab.json", "-o", "tokdir/merges.txt", "hf"}, "merges.txt beside the tokenizer"},
		{"tokenizer directory", []string{"convert", "--tokenizer", "tokdir", "-o", "tokdir/x.llmap", "hf"}, "inside the tokenizer"},
		{"cpu profile onto the input", []string{"convert", "--tokenizer", "tk.bin", "-o", "out.llmap", "--cpuprofile", "m.bin", "m.bin"}, "--cpuprofile m.bin is the input file"},
		{"trace onto the tokenizer", []string{"convert", "--tokenizer", "tk.bin", "-o", "out.llmap", "--trace", "hard.bin", "m.bin"}, "--trace hard.bin is the tokenizer"},
	}
	before := snapshot(t, dir)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := llmap(t, c.args...)
			if code != 2 || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 || stdout != "" {
				t.Errorf("exit %d, stderr %q (want exit 2 and %q)", code, stderr, c.want)
			}
			after := snapshot(t, dir)
			for path, data := range before {
				if after[path] != data {
					t.Fatalf("%s changed", path)
				}
			}
			for path := range after {
				if _, ok := before[path]; !ok {
					t.Fatalf("%s was created", path)
				}
			}
		})
	}

	// Beside the inputs (not inside an input directory) is fine.
	if _, stderr, code := llmap(t, "convert", "-o", "gpt2.llmap", "hf"); code != 0 {
		t.Errorf("convert beside the input directory: exit %d: %s", code, stderr)
	}
}

// TestProfileNeverOverwritesTheModel: llmap run m.llmap --cpuprofile
// m.llmap truncated the model before the fix.
func TestProfileNeverOverwritesTheModel(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.llmap")
	copyFile(t, stories260K(t), model)
	want, _ := os.ReadFile(model)
	for _, args := range [][]string{
		{"run", model, "-n", "4", "--cpuprofile", model},
		{"run", model, "-n", "4", "--memprofile", model},
		{"bench", model, "-p", "4", "-n", "4", "-r", "1", "--trace", model},
		{"perplexity", model, model, "--cpuprofile", model},
	} {
		expectUserError(t, args, "is the input "+model)
		if got, _ := os.ReadFile(model); !bytes.Equal(got, want) {
			t.Fatalf("%v changed the model", args)
		}
	}
}

// TestWriteErrorsNameTheOutputOnce: an output that cannot be created is
// named once, as the user gave it, never by its temporary name (before the
// fix: "/proc/x.llmap: format: create /proc/x.llmap: open
// /proc/.x.llmap.tmp-4c5bc490: ...").
func TestWriteErrorsNameTheOutputOnce(t *testing.T) {
	bin := testmodels.Path(t, "stories260K/stories260K.bin")
	tok := testmodels.Path(t, "stories260K/tok512.bin")
	missing := filepath.Join(t.TempDir(), "no-such-dir", "x.llmap")
	for _, args := range [][]string{
		{"convert", "--tokenizer", tok, "-o", "/proc/x.llmap", bin},
		{"convert", "--tokenizer", tok, "-o", missing, bin},
		{"synth", "--shape", "stories260K", "-o", "/proc/x.llmap"},
		{"synth", "--shape", "stories260K", "--format", "llama2c", "-o", missing},
	} {
		out := args[len(args)-1]
		if args[0] == "convert" {
			out = args[4]
		}
		stderr := expectUserError(t, args, out)
		if strings.Contains(stderr, ".tmp-") || strings.Count(stderr, out) != 1 {
			t.Errorf("%v: %q should name %s once and no temporary file", args, stderr, out)
		}
	}
}

// TestConvertSaysWhatItWrote: a successful convert names the output, its
// tensors by type, size and time (before the fix it printed nothing).
func TestConvertSaysWhatItWrote(t *testing.T) {
	out := filepath.Join(t.TempDir(), "s.llmap")
	_, stderr, code := llmap(t, "convert", "--tokenizer", testmodels.Path(t, "stories260K/tok512.bin"),
		"-o", out, testmodels.Path(t, "stories260K/stories260K.bin"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// stories260K: 5 layers of 2 norms and 7 matrices, the embedding, the
	// final norm (the classifier is tied), all f32 as stored.
	want := "llmap convert: wrote " + out + ": 47 tensors (f32 47), "
	if !strings.HasPrefix(stderr, want) || !strings.Contains(stderr, "1.0 MiB in ") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr %q, want one line starting %q", stderr, want)
	}
}

// TestProgressAppearsAfterASecond: no bar for quick work; after
// progressDelay the bar is drawn and ends its line at 100%.
func TestProgressAppearsAfterASecond(t *testing.T) {
	var b bytes.Buffer
	p := &progress{label: "writing", w: &b, on: true, start: time.Now(), last: -1}
	p.update(10, 100)
	if b.Len() != 0 {
		t.Fatalf("a bar within the first second: %q", b.String())
	}
	p.start = time.Now().Add(-progressDelay)
	p.update(50, 100)
	p.update(100, 100)
	if s := b.String(); !strings.Contains(s, " 50% ") || !strings.HasSuffix(s, "100% 100 B\n") {
		t.Errorf("bar %q", s)
	}
}

// TestDetectFormatExplains: an input no format accepts gets one line that
// names each format tried with its reason, the most likely first (before
// the fix: "not a llama2.c checkpoint: ... dim = 1819025443" for a .gguf).
func TestDetectFormatExplains(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	st, err := os.ReadFile(testmodels.Path(t, "tiny-gpt2-random-lmbuddy/model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	text := []byte("hello world, this is a text and not a model at all\n")
	cases := []struct {
		path  string
		first string // the format named first
		want  string
	}{
		{write("broken.gguf", text), "gguf", "gguf: no GGUF magic (the file starts with \"hell\")"},
		{write("model.safetensors", st), "hf", "hf: a safetensors file: pass the directory that holds it"},
		{write("weights.bin", st), "hf", "hf: a safetensors file"},
		{write("notes.safetensors", text), "hf", "hf: not a safetensors file"},
		{write("notes.txt", text), "llama2c", "llama2c: not a valid llama2.c checkpoint"},
	}
	for _, c := range cases {
		stderr := expectUserError(t, []string{"convert", "-o", filepath.Join(dir, "out.llmap"), c.path}, c.path+": unrecognised input format; tried "+c.first+": ", c.want)
		for _, name := range []string{"gguf: ", "llama2c: ", "hf: "} {
			if !strings.Contains(stderr, name) {
				t.Errorf("%s: %q does not say why it is not %s", c.path, stderr, name)
			}
		}
	}
}

// TestSynthTooLargeForTheDisk: a shape whose file cannot fit on the disk
// (--dim at the top of its range makes a 60 TiB model) is refused at once,
// in one line, leaving nothing; before, synth started writing it.
func TestSynthTooLargeForTheDisk(t *testing.T) {
	dir := t.TempDir()
	for _, format := range []string{"llmap", "llama2c"} {
		expectUserError(t, []string{"synth", "--shape", "stories260K", "--dim", "1048576", "--format", format, "-o", filepath.Join(dir, "huge")},
			"the file needs", "GiB free")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the directory holds %v", entries)
	}
}
