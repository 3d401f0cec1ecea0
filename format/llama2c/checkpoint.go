package llama2c

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/format/arch"
	"github.com/llmap/llmap/internal/mmapfile"
)

// Magic is the first u32 of version 1 and 2 checkpoints ("ak42" read as a
// little-endian u32).
const Magic = 0x616b3432

// Checkpoint versions.
const (
	VersionLegacy = 0 // run.c's headerless format (7 x i32, then f32 arrays)
	VersionFP32   = 1 // export.py version1_export
	VersionInt8   = 2 // export.py version2_export (runq.c)
)

// Limits on header values. They are far above any published model and keep
// every size computation well inside int64.
const (
	maxDim     = 1 << 16
	maxLayers  = 1 << 10
	maxVocab   = 1 << 22
	maxSeqLen  = 1 << 22
	maxHeads   = 1 << 10
	headerV1V2 = 256
	headerV0   = 28
)

// ErrFormat is wrapped by every error that reports a malformed checkpoint.
var ErrFormat = errors.New("not a valid llama2.c checkpoint")

// NormEps and RopeBase are the values llama2.c's run.c has built in; its
// checkpoints do not store them.
const (
	NormEps  = 1e-5
	RopeBase = 10000
)

// header is a checkpoint's header: the hyperparameters (llama, with
// run.c's epsilon and RoPE base) and the version's own fields.
type header struct {
	arch.Config
	Version   int
	GroupSize int // quantisation group of version 2, 0 otherwise
}

// kvDim is the width of the key and value projections.
func (c header) kvDim() int { return c.Dim * c.NKVHeads / c.NHeads }

// Tensor is one weight matrix or vector of a checkpoint, under its .llmap
// (GGUF-style) name. Shape is outermost first: a matrix W in out = W x has
// shape [out, in]; a vector has shape [n].
type Tensor struct {
	Name  string
	Shape []int64

	f32       []byte // little-endian float32 data (versions 0 and 1)
	q         []byte // int8 values (version 2)
	scales    []byte // little-endian float32 group scales (version 2)
	groupSize int
}

// Rows is the number of rows (1 for a vector).
func (t *Tensor) Rows() int {
	if len(t.Shape) == 1 {
		return 1
	}
	return int(t.Shape[0])
}

// Cols is the length of one row.
func (t *Tensor) Cols() int { return int(t.Shape[len(t.Shape)-1]) }

// F32Bytes returns the tensor's float32 bytes as stored, if it is stored as
// float32 (versions 0 and 1), so a converter can copy it unchanged.
func (t *Tensor) F32Bytes() ([]byte, bool) { return t.f32, t.f32 != nil }

// Row decodes row r into dst (len(dst) == Cols()), dequantising version 2
// int8 data as q*scale[i/groupSize] over the flattened tensor.
func (t *Tensor) Row(r int, dst []float32) {
	cols := t.Cols()
	base := r * cols
	if t.f32 != nil {
		b := t.f32[base*4 : (base+cols)*4]
		for i := range dst[:cols] {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[i*4:]))
		}
		return
	}
	for i := range dst[:cols] {
		j := base + i
		g := j / t.groupSize
		s := math.Float32frombits(binary.LittleEndian.Uint32(t.scales[g*4:]))
		dst[i] = float32(int8(t.q[j])) * s
	}
}

// Checkpoint is a parsed llama2.c checkpoint. Its tensors are views into
// the data it was parsed from; for Open, that is a read-only mapping that is
// valid until Close.
type Checkpoint struct {
	Config    arch.Config // family llama, ContextLength = llama2.c's seq_len
	Version   int
	GroupSize int // quantisation group of version 2, 0 otherwise
	Tensors   []*Tensor
	mapping   *mmapfile.Mapping
}

// Open maps the checkpoint at path read-only and parses it.
func Open(path string) (*Checkpoint, error) {
	m, err := mmapfile.Open(path)
	if err != nil {
		return nil, err
	}
	ck, err := Parse(m.Bytes())
	if err != nil {
		_ = m.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ck.mapping = m
	return ck, nil
}

// Close unmaps a checkpoint returned by Open. Tensor data must not be used
// afterwards.
func (c *Checkpoint) Close() error {
	err := c.mapping.Close()
	c.mapping = nil
	return err
}

// Detect reports whether data starts like a llama2.c checkpoint and which
// version. A legacy (version 0) file has no magic, so it is recognised only
// when its header is plausible and its size matches the header exactly.
func Detect(data []byte) (version int, ok bool) {
	if len(data) >= 8 && binary.LittleEndian.Uint32(data) == Magic {
		v := int(int32(binary.LittleEndian.Uint32(data[4:])))
		return v, v == VersionFP32 || v == VersionInt8
	}
	if _, err := Parse(data); err == nil {
		return VersionLegacy, true
	}
	return 0, false
}

// Parse validates the header against len(data) and returns the checkpoint's
// tensors as views into data. Nothing is read beyond the header until the
// sizes have been checked.
func Parse(data []byte) (*Checkpoint, error) {
	if len(data) >= 8 && binary.LittleEndian.Uint32(data) == Magic {
		version := int32(binary.LittleEndian.Uint32(data[4:]))
		switch version {
		case VersionFP32, VersionInt8:
			return parseV1V2(data, int(version))
		default:
			return nil, fmt.Errorf("%w: unsupported version %d (want 1 or 2)", ErrFormat, version)
		}
	}
	return parseV0(data)
}

func readConfig(b []byte) (header, error) {
	v := func(i int) int { return int(int32(binary.LittleEndian.Uint32(b[4*i:]))) }
	c := header{Config: arch.Config{Arch: arch.Llama.Name, Dim: v(0), HiddenDim: v(1), NLayers: v(2), NHeads: v(3),
		NKVHeads: v(4), VocabSize: v(5), ContextLength: v(6), NormEps: NormEps, RopeBase: RopeBase}}
	c.SharedClassifier = c.VocabSize > 0
	if c.VocabSize < 0 {
		c.VocabSize = -c.VocabSize
	}
	err := c.validate()
	if err == nil {
		c.HeadSize = c.Dim / c.NHeads
	}
	return c, err
}

func (c header) validate() error {
	check := func(name string, v, max int) error {
		if v <= 0 || v > max {
			return fmt.Errorf("%w: %s = %d (want 1..%d)", ErrFormat, name, v, max)
		}
		return nil
	}
	for _, f := range []struct {
		name   string
		v, max int
	}{
		{"dim", c.Dim, maxDim}, {"hidden_dim", c.HiddenDim, maxDim * 8}, {"n_layers", c.NLayers, maxLayers},
		{"n_heads", c.NHeads, maxHeads}, {"n_kv_heads", c.NKVHeads, maxHeads},
		{"vocab_size", c.VocabSize, maxVocab}, {"seq_len", c.ContextLength, maxSeqLen},
	} {
		if err := check(f.name, f.v, f.max); err != nil {
			return err
		}
	}
	if c.Dim%c.NHeads != 0 {
		return fmt.Errorf("%w: dim %d is not a multiple of n_heads %d", ErrFormat, c.Dim, c.NHeads)
	}
	if c.NHeads%c.NKVHeads != 0 {
		return fmt.Errorf("%w: n_heads %d is not a multiple of n_kv_heads %d", ErrFormat, c.NHeads, c.NKVHeads)
	}
	if (c.Dim/c.NHeads)%2 != 0 {
		return fmt.Errorf("%w: head size %d is odd (RoPE rotates pairs)", ErrFormat, c.Dim/c.NHeads)
	}
	return nil
}

// layout describes the tensors of a checkpoint in file order. Each entry
// covers all layers of one kind (layer-major) or a single tensor.
type layoutEntry struct {
	name     string // .llmap name; after "blk.N." if perLayer
	perLayer bool
	rows     int // 1 for vectors
	cols     int
	skip     bool // obsolete data (freq_cis) that is read past but not kept
}

// entries maps llama2.c's arrays to the tensors of format/arch's llama
// table, whose names they take.
func (c header) entries() map[string]layoutEntry {
	d, h, kv, v := c.Dim, c.HiddenDim, c.kvDim(), c.VocabSize
	t := func(r arch.Role, rows, cols int) layoutEntry {
		row := arch.Llama.Tensor(r)
		return layoutEntry{name: row.Name, perLayer: r.Block(), rows: rows, cols: cols}
	}
	return map[string]layoutEntry{
		"emb":       t(arch.RoleTokenEmbedding, v, d),
		"rms_att":   t(arch.RoleAttnNorm, 1, d),
		"wq":        t(arch.RoleAttnQ, d, d),
		"wk":        t(arch.RoleAttnK, kv, d),
		"wv":        t(arch.RoleAttnV, kv, d),
		"wo":        t(arch.RoleAttnOutput, d, d),
		"rms_ffn":   t(arch.RoleFFNNorm, 1, d),
		"w1":        t(arch.RoleFFNGate, h, d),
		"w2":        t(arch.RoleFFNDown, d, h),
		"w3":        t(arch.RoleFFNUp, h, d),
		"rms_final": t(arch.RoleOutputNorm, 1, d),
		"freq_real": {skip: true, rows: c.ContextLength, cols: c.Dim / c.NHeads / 2},
		"freq_imag": {skip: true, rows: c.ContextLength, cols: c.Dim / c.NHeads / 2},
		"wcls":      t(arch.RoleOutput, v, d),
	}
}

// order lists the float32 arrays of versions 0 and 1 in file order.
func (c header) order() []string {
	var o []string
	if c.Version == VersionLegacy {
		o = []string{"emb", "rms_att", "wq", "wk", "wv", "wo", "rms_ffn", "w1", "w2", "w3", "rms_final", "freq_real", "freq_imag"}
	} else {
		o = []string{"rms_att", "rms_ffn", "rms_final", "emb", "wq", "wk", "wv", "wo", "w1", "w2", "w3"}
	}
	if !c.SharedClassifier {
		o = append(o, "wcls")
	}
	return o
}

func (e layoutEntry) shape() []int64 {
	if e.rows == 1 {
		return []int64{int64(e.cols)}
	}
	return []int64{int64(e.rows), int64(e.cols)}
}

func (e layoutEntry) tensorName(layer int) string {
	if e.perLayer {
		return format.BlockTensor(layer, e.name)
	}
	return e.name
}

func (e layoutEntry) layers(c header) int {
	if e.perLayer {
		return c.NLayers
	}
	return 1
}

// f32Size is the total byte size of the float32 arrays. The header limits
// keep it far below 2^63.
func (c header) f32Size() int64 {
	var n int64
	ents := c.entries()
	for _, k := range c.order() {
		e := ents[k]
		n += int64(e.layers(c)) * int64(e.rows) * int64(e.cols) * 4
	}
	return n
}

func parseV0(data []byte) (*Checkpoint, error) {
	if len(data) < headerV0 {
		return nil, fmt.Errorf("%w: %d bytes is too short for a header", ErrFormat, len(data))
	}
	c, err := readConfig(data)
	if err != nil {
		return nil, err
	}
	c.Version = VersionLegacy
	want := headerV0 + c.f32Size()
	if int64(len(data)) != want {
		return nil, fmt.Errorf("%w: header (dim %d, hidden %d, layers %d, heads %d, kv heads %d, vocab %d, seq_len %d) implies %d bytes, file has %d",
			ErrFormat, c.Dim, c.HiddenDim, c.NLayers, c.NHeads, c.NKVHeads, c.VocabSize, c.ContextLength, want, len(data))
	}
	return splitF32(data, headerV0, c), nil
}

func parseV1V2(data []byte, version int) (*Checkpoint, error) {
	if len(data) < headerV1V2 {
		return nil, fmt.Errorf("%w: %d bytes is too short for a version %d header", ErrFormat, len(data), version)
	}
	c, err := readConfig(data[8:])
	if err != nil {
		return nil, err
	}
	c.Version = version
	c.SharedClassifier = data[36] != 0
	if version == VersionFP32 {
		want := headerV1V2 + c.f32Size()
		if int64(len(data)) != want {
			return nil, fmt.Errorf("%w: version 1 header implies %d bytes, file has %d", ErrFormat, want, len(data))
		}
		return splitF32(data, headerV1V2, c), nil
	}
	c.GroupSize = int(int32(binary.LittleEndian.Uint32(data[37:])))
	return parseV2(data, c)
}

// splitF32 cuts the float32 arrays of a version 0 or 1 file, starting at off,
// into per-layer tensors. The caller has checked the total size.
func splitF32(data []byte, off int64, c header) *Checkpoint {
	ck := &Checkpoint{Config: c.Config, Version: c.Version, GroupSize: c.GroupSize}
	ents := c.entries()
	byName := map[string]*Tensor{}
	for _, k := range c.order() {
		e := ents[k]
		n := int64(e.rows) * int64(e.cols) * 4
		for l := 0; l < e.layers(c); l++ {
			if !e.skip {
				t := &Tensor{Name: e.tensorName(l), Shape: e.shape(), f32: data[off : off+n : off+n]}
				byName[t.Name] = t
			}
			off += n
		}
	}
	ck.Tensors = canonicalOrder(c, byName)
	return ck
}

func parseV2(data []byte, c header) (*Checkpoint, error) {
	gs := c.GroupSize
	if gs <= 0 || gs > maxDim {
		return nil, fmt.Errorf("%w: group size %d", ErrFormat, gs)
	}
	if c.Dim%gs != 0 || c.HiddenDim%gs != 0 {
		return nil, fmt.Errorf("%w: group size %d does not divide dim %d and hidden_dim %d", ErrFormat, gs, c.Dim, c.HiddenDim)
	}
	ents := c.entries()
	byName := map[string]*Tensor{}
	off := int64(headerV1V2)
	size := int64(len(data))
	take := func(n int64) ([]byte, error) {
		if n > size-off {
			return nil, fmt.Errorf("%w: truncated at byte %d: need %d more bytes, file has %d", ErrFormat, off, n, size)
		}
		b := data[off : off+n : off+n]
		off += n
		return b, nil
	}
	// The float32 norm weights come first.
	for _, k := range []string{"rms_att", "rms_ffn", "rms_final"} {
		e := ents[k]
		for l := 0; l < e.layers(c); l++ {
			b, err := take(int64(e.cols) * 4)
			if err != nil {
				return nil, err
			}
			t := &Tensor{Name: e.tensorName(l), Shape: e.shape(), f32: b}
			byName[t.Name] = t
		}
	}
	// Then each quantised tensor (per layer): int8 values, then float32 scales.
	q := []string{"emb", "wq", "wk", "wv", "wo", "w1", "w2", "w3"}
	if !c.SharedClassifier {
		q = append(q, "wcls")
	}
	for _, k := range q {
		e := ents[k]
		for l := 0; l < e.layers(c); l++ {
			n := int64(e.rows) * int64(e.cols)
			qb, err := take(n)
			if err != nil {
				return nil, err
			}
			sb, err := take(n / int64(gs) * 4)
			if err != nil {
				return nil, err
			}
			t := &Tensor{Name: e.tensorName(l), Shape: e.shape(), q: qb, scales: sb, groupSize: gs}
			byName[t.Name] = t
		}
	}
	if off != size {
		return nil, fmt.Errorf("%w: %d bytes after the last tensor", ErrFormat, size-off)
	}
	return &Checkpoint{Config: c.Config, Version: c.Version, GroupSize: c.GroupSize, Tensors: canonicalOrder(c, byName)}, nil
}

// canonicalOrder lists tensors in the order the forward pass reads them:
// embedding, then each layer's tensors, then the final norm and classifier.
// Writing them in this order lets the runtime prefetch layer by layer.
func canonicalOrder(c header, byName map[string]*Tensor) []*Tensor {
	ents := c.entries()
	var out []*Tensor
	add := func(k string, l int) {
		if t, ok := byName[ents[k].tensorName(l)]; ok {
			out = append(out, t)
		}
	}
	add("emb", 0)
	for l := 0; l < c.NLayers; l++ {
		for _, k := range []string{"rms_att", "wq", "wk", "wv", "wo", "rms_ffn", "w1", "w2", "w3"} {
			add(k, l)
		}
	}
	add("rms_final", 0)
	add("wcls", 0)
	return out
}
