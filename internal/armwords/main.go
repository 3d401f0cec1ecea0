// Command armwords checks the WORD-encoded instructions of arm64 assembly
// files: every `WORD $0x... // INSTR` (or `/* INSTR */` inside a macro)
// must be the encoding of the instruction its comment names, as GNU as
// (binutils-aarch64-linux-gnu) assembles it. The Go assembler lacks many
// NEON instructions (FADD, FCVTL, SDOT, ...), so the kernels spell them as
// raw words; this keeps the comments honest.
//
//	go run ./internal/armwords quant/dot_arm64.s simd/simd_arm64.s
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// word matches a WORD line and captures the value and the instruction.
var word = regexp.MustCompile(`^\s*WORD\s+\$0x([0-9a-fA-F]{8})\s*(?://\s*(.+?)|/\*\s*(.+?)\s*\*/\s*\\?)\s*$`)

// wordInstr matches any WORD instruction, to catch one without a comment.
var wordInstr = regexp.MustCompile(`^\s*WORD\b`)

type entry struct {
	file string
	line int
	want uint32
	text string
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: armwords FILE.s...")
		os.Exit(2)
	}
	var entries []entry
	for _, path := range os.Args[1:] {
		f, err := os.Open(path)
		if err != nil {
			fail(err)
		}
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			m := word.FindStringSubmatch(sc.Text())
			if m == nil {
				if wordInstr.MatchString(sc.Text()) {
					fail(fmt.Errorf("%s:%d: WORD without the instruction in a comment", path, n))
				}
				continue
			}
			v, _ := strconv.ParseUint(m[1], 16, 32)
			entries = append(entries, entry{path, n, uint32(v), m[2] + m[3]})
		}
		f.Close()
	}
	got, err := assemble(entries)
	if err != nil {
		fail(err)
	}
	bad := 0
	for i, e := range entries {
		if got[i] != e.want {
			fmt.Printf("%s:%d: WORD $0x%08x, but %q is 0x%08x\n", e.file, e.line, e.want, e.text, got[i])
			bad++
		}
	}
	if bad > 0 {
		os.Exit(1)
	}
	fmt.Printf("armwords: %d WORD encodings match their instructions\n", len(entries))
}

// assemble returns the encoding of each entry's instruction, assembled with
// aarch64-linux-gnu-as and read back from the object's .text section.
func assemble(entries []entry) ([]uint32, error) {
	dir, err := os.MkdirTemp("", "armwords")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var src bytes.Buffer
	for _, e := range entries {
		fmt.Fprintln(&src, strings.ToLower(e.text))
	}
	s, o, bin := filepath.Join(dir, "a.s"), filepath.Join(dir, "a.o"), filepath.Join(dir, "a.bin")
	if err := os.WriteFile(s, src.Bytes(), 0o644); err != nil {
		return nil, err
	}
	for _, cmd := range [][]string{
		{"aarch64-linux-gnu-as", "-march=armv8.2-a+dotprod+fp16", "-o", o, s},
		{"aarch64-linux-gnu-objcopy", "-O", "binary", "-j", ".text", o, bin},
	} {
		if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%s: %v\n%s", cmd[0], err, out)
		}
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	if len(b) != 4*len(entries) {
		return nil, fmt.Errorf("assembled %d bytes for %d instructions", len(b), len(entries))
	}
	words := make([]uint32, len(entries))
	for i := range words {
		words[i] = uint32(b[4*i]) | uint32(b[4*i+1])<<8 | uint32(b[4*i+2])<<16 | uint32(b[4*i+3])<<24
	}
	return words, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "armwords:", err)
	os.Exit(1)
}
