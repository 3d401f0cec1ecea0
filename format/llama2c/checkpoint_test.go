package llama2c

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"testing"

	"github.com/llmap/llmap/format/arch"
	"github.com/llmap/llmap/internal/testmodels"
)

func readStories(t testing.TB) []byte {
	data, err := os.ReadFile(testmodels.Path(t, "stories260K/stories260K.bin"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func f32At(b []byte, i int) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])) }

// TestLegacyLayout checks the tensors of stories260K against the byte
// offsets published in FORMATS.md.
func TestLegacyLayout(t *testing.T) {
	data := readStories(t)
	ck, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	c := ck.Config
	want := arch.Config{Arch: "llama", Dim: 64, HiddenDim: 172, NLayers: 5, NHeads: 8, NKVHeads: 4, HeadSize: 8,
		VocabSize: 512, ContextLength: 512, NormEps: 1e-5, RopeBase: 10000, SharedClassifier: true}
	if c != want || ck.Version != VersionLegacy {
		t.Fatalf("version %d, config %+v, want %+v", ck.Version, c, want)
	}
	offsets := map[string]int{ // FORMATS.md: start of each array; layer l is at start + l*size
		"token_embd.weight": 28, "blk.0.attn_norm.weight": 131100, "blk.0.attn_q.weight": 132380,
		"blk.0.attn_k.weight": 214300, "blk.0.attn_v.weight": 255260, "blk.0.attn_output.weight": 296220,
		"blk.0.ffn_norm.weight": 378140, "blk.0.ffn_gate.weight": 379420, "blk.0.ffn_down.weight": 599580,
		"blk.0.ffn_up.weight": 819740, "output_norm.weight": 1039900,
		"blk.1.attn_q.weight": 132380 + 64*64*4, "blk.4.ffn_up.weight": 819740 + 4*172*64*4,
	}
	byName := map[string]*Tensor{}
	for _, tn := range ck.Tensors {
		byName[tn.Name] = tn
	}
	if len(ck.Tensors) != 1+5*9+1 {
		t.Errorf("%d tensors, want %d (shared classifier: no output.weight)", len(ck.Tensors), 1+5*9+1)
	}
	row := make([]float32, 172)
	for name, off := range offsets {
		tn, ok := byName[name]
		if !ok {
			t.Errorf("no tensor %s", name)
			continue
		}
		b, ok := tn.F32Bytes()
		if !ok || &b[0] != &data[off] {
			t.Errorf("%s does not start at byte %d", name, off)
		}
		tn.Row(tn.Rows()-1, row[:tn.Cols()])
		last := off + (tn.Rows()-1)*tn.Cols()*4
		if row[0] != f32At(data[last:], 0) {
			t.Errorf("%s: Row decodes %v, file has %v", name, row[0], f32At(data[last:], 0))
		}
	}
	if s := byName["blk.0.ffn_down.weight"].Shape; s[0] != 64 || s[1] != 172 {
		t.Errorf("ffn_down shape %v, want [64 172]", s)
	}
}

// writeV1 re-exports a legacy checkpoint as version 1, following the layout
// in FORMATS.md (export.py's version1_export).
func writeV1(ck *Checkpoint) []byte {
	var b bytes.Buffer
	hdr := make([]byte, 256)
	binary.LittleEndian.PutUint32(hdr, Magic)
	binary.LittleEndian.PutUint32(hdr[4:], 1)
	c := ck.Config
	for i, v := range []int{c.Dim, c.HiddenDim, c.NLayers, c.NHeads, c.NKVHeads, c.VocabSize, c.ContextLength} {
		binary.LittleEndian.PutUint32(hdr[8+4*i:], uint32(v))
	}
	hdr[36] = 1
	b.Write(hdr)
	for _, name := range v1Order(c) {
		tn := find(ck, name)
		raw, _ := tn.F32Bytes()
		b.Write(raw)
	}
	return b.Bytes()
}

func v1Order(c arch.Config) []string {
	var names []string
	layers := func(s string) {
		for l := 0; l < c.NLayers; l++ {
			names = append(names, "blk."+itoa(l)+"."+s)
		}
	}
	layers("attn_norm.weight")
	layers("ffn_norm.weight")
	names = append(names, "output_norm.weight", "token_embd.weight")
	for _, s := range []string{"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_down", "ffn_up"} {
		layers(s + ".weight")
	}
	return names
}

func itoa(i int) string { return string(rune('0' + i)) }

func find(ck *Checkpoint, name string) *Tensor {
	for _, t := range ck.Tensors {
		if t.Name == name {
			return t
		}
	}
	panic("no tensor " + name)
}

// writeV2 quantises a legacy checkpoint as export.py's version2_export does:
// per tensor, int8 values then float32 scales, one per group of gs values of
// the flattened tensor, scale = max|w|/127, q = round(w/scale).
func writeV2(ck *Checkpoint, gs int) []byte {
	var b bytes.Buffer
	hdr := make([]byte, 256)
	binary.LittleEndian.PutUint32(hdr, Magic)
	binary.LittleEndian.PutUint32(hdr[4:], 2)
	c := ck.Config
	for i, v := range []int{c.Dim, c.HiddenDim, c.NLayers, c.NHeads, c.NKVHeads, c.VocabSize, c.ContextLength} {
		binary.LittleEndian.PutUint32(hdr[8+4*i:], uint32(v))
	}
	hdr[36] = 1
	binary.LittleEndian.PutUint32(hdr[37:], uint32(gs))
	b.Write(hdr)
	names := v1Order(c)
	for _, n := range names[:2*c.NLayers+1] { // norms stay float32
		raw, _ := find(ck, n).F32Bytes()
		b.Write(raw)
	}
	for _, n := range append(names[2*c.NLayers+1:2*c.NLayers+2], names[2*c.NLayers+2:]...) {
		raw, _ := find(ck, n).F32Bytes()
		w := make([]float32, len(raw)/4)
		for i := range w {
			w[i] = f32At(raw, i)
		}
		q := make([]byte, len(w))
		scales := make([]byte, 4*len(w)/gs)
		for g := 0; g < len(w)/gs; g++ {
			var amax float64
			for _, v := range w[g*gs : (g+1)*gs] {
				amax = math.Max(amax, math.Abs(float64(v)))
			}
			s := float32(amax / 127)
			binary.LittleEndian.PutUint32(scales[4*g:], math.Float32bits(s))
			for i := g * gs; i < (g+1)*gs; i++ {
				if s != 0 {
					q[i] = byte(int8(math.Round(float64(w[i] / s))))
				}
			}
		}
		b.Write(q)
		b.Write(scales)
	}
	return b.Bytes()
}

func TestVersion1MatchesLegacy(t *testing.T) {
	ck, err := Parse(readStories(t))
	if err != nil {
		t.Fatal(err)
	}
	v1, err := Parse(writeV1(ck))
	if err != nil {
		t.Fatal(err)
	}
	if v1.Version != 1 || !v1.Config.SharedClassifier {
		t.Fatalf("config %+v", v1.Config)
	}
	if len(v1.Tensors) != len(ck.Tensors) {
		t.Fatalf("%d tensors, want %d", len(v1.Tensors), len(ck.Tensors))
	}
	for i, tn := range ck.Tensors {
		a, _ := tn.F32Bytes()
		b, _ := v1.Tensors[i].F32Bytes()
		if v1.Tensors[i].Name != tn.Name || !bytes.Equal(a, b) {
			t.Errorf("tensor %d: %s differs from %s", i, v1.Tensors[i].Name, tn.Name)
		}
	}
}

func TestVersion2Dequantises(t *testing.T) {
	ck, err := Parse(readStories(t))
	if err != nil {
		t.Fatal(err)
	}
	// stories260K's hidden_dim 172 = 4*43: only group sizes dividing both
	// 64 and 172 are valid, so 4.
	if _, err := Parse(writeV2(ck, 64)[:256]); err == nil {
		t.Error("version 2 header with group size 64 (does not divide 172) accepted")
	}
	v2, err := Parse(writeV2(ck, 4))
	if err != nil {
		t.Fatal(err)
	}
	if v2.GroupSize != 4 {
		t.Fatalf("group size %d", v2.GroupSize)
	}
	orig := make([]float32, 172)
	got := make([]float32, 172)
	for i, tn := range ck.Tensors {
		q := v2.Tensors[i]
		if q.Name != tn.Name {
			t.Fatalf("tensor %d is %s, want %s", i, q.Name, tn.Name)
		}
		for r := 0; r < tn.Rows(); r++ {
			tn.Row(r, orig[:tn.Cols()])
			q.Row(r, got[:tn.Cols()])
			for j := 0; j < tn.Cols(); j++ {
				// |w - q*s| <= s/2 with s = max|w in group|/127.
				if d := math.Abs(float64(orig[j] - got[j])); d > 1e-6+math.Abs(float64(maxAbsGroup(orig[:tn.Cols()], j, 4)))/254*1.0001 {
					t.Fatalf("%s row %d col %d: %v vs %v", tn.Name, r, j, got[j], orig[j])
				}
			}
		}
	}
}

func maxAbsGroup(row []float32, j, gs int) float32 {
	g := j / gs * gs
	var m float32
	for _, v := range row[g : g+gs] {
		m = max(m, float32(math.Abs(float64(v))))
	}
	return m
}

func TestBadCheckpoints(t *testing.T) {
	data := readStories(t)
	hdr := func(vals ...int32) []byte {
		b := make([]byte, 28)
		for i, v := range vals {
			binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
		}
		return b
	}
	cases := map[string][]byte{
		"empty":              nil,
		"short header":       data[:20],
		"truncated":          data[:len(data)-1],
		"trailing byte":      append(append([]byte{}, data...), 0),
		"zero dim":           hdr(0, 172, 5, 8, 4, 512, 512),
		"negative layers":    hdr(64, 172, -5, 8, 4, 512, 512),
		"heads not dividing": hdr(64, 172, 5, 7, 7, 512, 512),
		"kv heads":           hdr(64, 172, 5, 8, 3, 512, 512),
		"huge vocab":         hdr(64, 172, 5, 8, 4, 1<<30, 512),
		"huge everything":    hdr(1<<16, 1<<19, 1<<10, 1, 1, 1<<22, 1<<22),
		"v1 short":           append(binary.LittleEndian.AppendUint32(nil, Magic), 1, 0, 0, 0),
		"v3":                 append(binary.LittleEndian.AppendUint32(nil, Magic), 3, 0, 0, 0),
	}
	for name, b := range cases {
		_, err := Parse(b)
		if !errors.Is(err, ErrFormat) {
			t.Errorf("%s: got %v, want ErrFormat", name, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	data := readStories(f)
	ck, err := Parse(data)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data[:28])
	f.Add(writeV1(ck)[:300])
	f.Add(writeV2(ck, 4)[:300])
	f.Fuzz(func(t *testing.T, b []byte) {
		ck, err := Parse(b)
		if err != nil {
			return
		}
		// Every accepted tensor can be decoded without going out of bounds.
		for _, tn := range ck.Tensors {
			row := make([]float32, tn.Cols())
			tn.Row(tn.Rows()-1, row)
		}
	})
}
