package arch

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/llmap/llmap/format"
)

// Family describes one model architecture: the pieces its blocks are built
// from, its tensors, and how Hugging Face checkpoints store them. The
// runtime builds its one forward pass from Norm, Position and FFN and from
// which tensors are present (a bias, a fused projection); convert and synth
// write and check files against Tensors.
type Family struct {
	Name     string   // general.architecture, also GGUF's name for it
	Norm     Norm     // before attention, feed-forward and classifier
	Position Position // how positions enter attention
	FFN      FFN      // the feed-forward network's activation

	NormEps  float32 // default epsilon, where a source does not give one
	RopeBase float32 // default RoPE θ, where a source does not give one

	// Tensors lists every tensor the family may have, in file order:
	// the embeddings, one block's tensors, then the output tensors.
	Tensors []Tensor
	// GGUFUnused names tensors that GGUF files of the family may carry
	// and llmap does not read; the converter leaves them out, and a
	// comment beside each says why.
	GGUFUnused []string
	// LongRoPE: the family's RoPE frequency divisors, when a model has
	// them, are LongRoPE's short factors, exact only up to the model's
	// original context length, which then caps its context.
	LongRoPE bool

	HF HF // how Hugging Face checkpoints of the family look
}

// Norm is a normalisation kind.
type Norm uint8

const (
	// RMSNorm: x / sqrt(mean(x²) + eps) * weight.
	RMSNorm Norm = iota + 1
	// LayerNorm: (x - mean(x)) / sqrt(var(x) + eps) * weight + bias.
	LayerNorm
)

func (n Norm) String() string {
	switch n {
	case RMSNorm:
		return "RMSNorm"
	case LayerNorm:
		return "LayerNorm"
	}
	return "norm(" + strconv.Itoa(int(n)) + ")"
}

// Position is the way positions enter attention.
type Position uint8

const (
	// RoPEPairs rotates each pair (x[2i], x[2i+1]) of a query or key
	// head by pos·θ^(-2i/head_size): llama2.c, GGUF's llama.
	RoPEPairs Position = iota + 1
	// RoPEHalves rotates (x[i], x[i+head_size/2]) by the same angles:
	// GPT-NeoX's layout, Hugging Face's rotate_half, GGUF's qwen2, phi3.
	RoPEHalves
	// Learned adds row pos of position_embd.weight to the token
	// embedding: GPT-2.
	Learned
)

// RoPE reports whether p rotates queries and keys.
func (p Position) RoPE() bool { return p == RoPEPairs || p == RoPEHalves }

func (p Position) String() string {
	switch p {
	case RoPEPairs:
		return "RoPE on adjacent pairs"
	case RoPEHalves:
		return "RoPE on halves (NeoX)"
	case Learned:
		return "learned positions"
	}
	return "position(" + strconv.Itoa(int(p)) + ")"
}

// FFN is a feed-forward network kind.
type FFN uint8

const (
	// SwiGLU: down(silu(gate·x) * (up·x)).
	SwiGLU FFN = iota + 1
	// GELU: down(gelu(up·x)), GELU with the tanh approximation.
	GELU
)

func (f FFN) String() string {
	switch f {
	case SwiGLU:
		return "SwiGLU"
	case GELU:
		return "GELU (tanh)"
	}
	return "ffn(" + strconv.Itoa(int(f)) + ")"
}

// Tensor is one row of a family's tensor table.
type Tensor struct {
	// Name is the GGUF-style name. For a block tensor (Role.Block) it
	// is the part after "blk.N.", e.g. "attn_q.weight".
	Name  string
	Role  Role
	Shape []Dim // outermost first; one Dim for a vector
	// Optional tensors may be absent: a bias only some checkpoints
	// have. output.weight is absent exactly when the classifier is
	// shared, whatever Optional says.
	Optional bool

	// HF is the name in a Hugging Face checkpoint, "%d" standing for
	// the layer, without the family's HF.Prefixes; "" if HF has none.
	HF       string
	HFLayout Layout
	// HFFrom names the config.json entry a tensor is computed from when
	// Hugging Face keeps it there rather than in the checkpoint (the
	// family's HF.Config derives it); "" otherwise.
	HFFrom string
}

// Vector reports whether t is one-dimensional (norm weights, biases).
// Vectors are always stored as f32; matrices may be any tensor type.
func (t *Tensor) Vector() bool { return len(t.Shape) == 1 }

// FullName is t's name in layer (ignored for tensors outside the blocks).
func (t *Tensor) FullName(layer int) string {
	if t.Role.Block() {
		return format.BlockTensor(layer, t.Name)
	}
	return t.Name
}

// ShapeOf is t's shape under c, outermost first.
func (t *Tensor) ShapeOf(c *Config) []int64 {
	s := make([]int64, len(t.Shape))
	for i, d := range t.Shape {
		s[i] = d.Size(c)
	}
	return s
}

// Dim is a symbolic dimension of a tensor shape.
type Dim uint8

const (
	DimModel   Dim = iota + 1 // dim
	DimHidden                 // hidden_dim
	DimVocab                  // vocab_size
	DimContext                // context_length
	DimQ                      // n_heads·head_size: the query width
	DimKV                     // n_kv_heads·head_size: the key and value width
	DimQKV                    // q, k and v stacked: n_heads·head_size + 2·n_kv_heads·head_size
	DimHidden2                // gate and up stacked: 2·hidden_dim
	DimHead                   // head_size: one head (per-head norms)
	DimPairs                  // head_size/2: the rotated pairs of one head
)

// Size is d's value under c.
func (d Dim) Size(c *Config) int64 {
	switch d {
	case DimModel:
		return int64(c.Dim)
	case DimHidden:
		return int64(c.HiddenDim)
	case DimVocab:
		return int64(c.VocabSize)
	case DimContext:
		return int64(c.ContextLength)
	case DimQ:
		return int64(c.QDim())
	case DimKV:
		return int64(c.KVDim())
	case DimQKV:
		return int64(c.QDim()) + 2*int64(c.KVDim())
	case DimHidden2:
		return 2 * int64(c.HiddenDim)
	case DimHead:
		return int64(c.HeadSize)
	case DimPairs:
		return int64(c.HeadSize / 2)
	}
	panic(fmt.Sprintf("arch: unknown dimension %d", d))
}

func (d Dim) String() string {
	switch d {
	case DimModel:
		return "dim"
	case DimHidden:
		return "hidden"
	case DimVocab:
		return "vocab"
	case DimContext:
		return "ctx"
	case DimQ:
		return "q_dim"
	case DimKV:
		return "kv_dim"
	case DimQKV:
		return "q_dim+2·kv_dim"
	case DimHidden2:
		return "2·hidden"
	case DimHead:
		return "head_size"
	case DimPairs:
		return "head_size/2"
	}
	return "dim(" + strconv.Itoa(int(d)) + ")"
}

// Layout is how a Hugging Face checkpoint stores a tensor, relative to
// llmap's row-major (out, in) matrices.
type Layout uint8

const (
	HFPlain Layout = iota // as llmap stores it
	// HFTransposed is stored [in, out] (GPT-2's Conv1D): read transposed.
	HFTransposed
	// HFRotateHalf holds q or k rows in rotate-half order, (j, j+hs/2)
	// partners; they are reordered into the adjacent pairs of RoPEPairs.
	HFRotateHalf
)

// families is the registry, by name. Each family file registers itself.
var families = map[string]*Family{}

// Register adds f to the families Lookup knows. It fails on a repeated
// name, or a description the forward pass cannot run: an unknown piece, a
// tensor table without the tensors every block needs (query, key and value
// separate or fused; gate and up for SwiGLU; the position table for
// learned positions). The families of this package register themselves;
// a program or a test may add its own.
func Register(f *Family) error {
	if _, dup := families[f.Name]; dup || f.Name == "" {
		return fmt.Errorf("arch: family %q registered twice or unnamed", f.Name)
	}
	if f.Norm != RMSNorm && f.Norm != LayerNorm || f.FFN != SwiGLU && f.FFN != GELU ||
		!f.Position.RoPE() && f.Position != Learned {
		return fmt.Errorf("arch: family %s: unknown norm, position or feed-forward kind", f.Name)
	}
	has := func(roles ...Role) bool {
		for _, r := range roles {
			if t := f.Tensor(r); t == nil || t.Optional {
				return false
			}
		}
		return true
	}
	seen := map[string]bool{}
	for i := range f.Tensors {
		t := &f.Tensors[i]
		key := fmt.Sprint(t.Role.Block(), t.Name)
		if seen[key] || t.Role == 0 || t.Role >= numRoles || len(t.Shape) == 0 || len(t.Shape) > 2 {
			return fmt.Errorf("arch: family %s: tensor %q is repeated or malformed", f.Name, t.Name)
		}
		seen[key] = true
	}
	switch {
	case !has(RoleTokenEmbedding, RoleAttnNorm, RoleAttnOutput, RoleFFNNorm, RoleFFNDown, RoleOutputNorm, RoleOutput):
		return fmt.Errorf("arch: family %s lacks one of the tensors every model has", f.Name)
	case !has(RoleAttnQ, RoleAttnK, RoleAttnV) && !has(RoleAttnQKV):
		return fmt.Errorf("arch: family %s has neither q, k and v nor a fused qkv", f.Name)
	case f.FFN == SwiGLU && !has(RoleFFNGate, RoleFFNUp) && !has(RoleFFNGateUp):
		return fmt.Errorf("arch: family %s: SwiGLU needs gate and up, separate or fused", f.Name)
	case f.FFN == GELU && !has(RoleFFNUp):
		return fmt.Errorf("arch: family %s: GELU needs an up projection", f.Name)
	case f.Position == Learned && !has(RolePositionEmbedding):
		return fmt.Errorf("arch: family %s: learned positions need a position table", f.Name)
	case (f.Tensor(RoleAttnQNorm) == nil) != (f.Tensor(RoleAttnKNorm) == nil):
		return fmt.Errorf("arch: family %s: query and key head norms come together", f.Name)
	case !f.Position.RoPE() && f.Tensor(RoleRopeFreqs) != nil:
		return fmt.Errorf("arch: family %s: RoPE frequency divisors without RoPE", f.Name)
	}
	families[f.Name] = f
	return nil
}

// mustRegister registers one of this package's families.
func mustRegister(f *Family) *Family {
	if err := Register(f); err != nil {
		panic(err)
	}
	return f
}

// Lookup returns the family called name.
func Lookup(name string) (*Family, error) {
	if f, ok := families[name]; ok {
		return f, nil
	}
	return nil, fmt.Errorf("unknown architecture %q (llmap runs %s)", name, strings.Join(Names(), ", "))
}

// Names lists the families, sorted.
func Names() []string { return slices.Sorted(maps.Keys(families)) }

// Families lists the families, sorted by name.
func Families() []*Family {
	var fs []*Family
	for _, n := range Names() {
		fs = append(fs, families[n])
	}
	return fs
}

// Tensor returns the row of role r, or nil if the family has none.
func (f *Family) Tensor(r Role) *Tensor {
	for i := range f.Tensors {
		if f.Tensors[i].Role == r {
			return &f.Tensors[i]
		}
	}
	return nil
}

// Entry is one tensor of a model: a table row in one layer.
type Entry struct {
	*Tensor
	Name  string  // full name, "blk.N." included
	Layer int     // -1 outside the blocks
	Shape []int64 // under the model's Config
}

// Entries lists every tensor a model of configuration c may have, in file
// order: the tensors before the blocks, each block's, then the rest.
// Optional tensors are included; Required says which must be present.
func (f *Family) Entries(c *Config) []Entry {
	var pre, blk, post []*Tensor
	for i := range f.Tensors {
		t := &f.Tensors[i]
		switch {
		case t.Role.Block():
			blk = append(blk, t)
		case len(blk) == 0:
			pre = append(pre, t)
		default:
			post = append(post, t)
		}
	}
	es := make([]Entry, 0, len(pre)+c.NLayers*len(blk)+len(post))
	add := func(t *Tensor, layer int) {
		es = append(es, Entry{Tensor: t, Name: t.FullName(layer), Layer: layer, Shape: t.ShapeOf(c)})
	}
	for _, t := range pre {
		add(t, -1)
	}
	for l := range c.NLayers {
		for _, t := range blk {
			add(t, l)
		}
	}
	for _, t := range post {
		add(t, -1)
	}
	return es
}

// Required reports whether a model of configuration c must have e.
func (e *Entry) Required(c *Config) bool {
	if e.Role == RoleOutput {
		return !c.SharedClassifier
	}
	return !e.Optional
}

// Find returns the table row and layer of the tensor called name ("blk.N."
// included), or ok false if the family has no such tensor. The layer is
// not checked against a model's number of layers.
func (f *Family) Find(name string) (t *Tensor, layer int, ok bool) {
	layer = -1
	short := name
	if rest, found := strings.CutPrefix(name, "blk."); found {
		num, suffix, found := strings.Cut(rest, ".")
		l, err := strconv.Atoi(num)
		if !found || err != nil || l < 0 || strconv.Itoa(l) != num {
			return nil, -1, false
		}
		layer, short = l, suffix
	}
	for i := range f.Tensors {
		t := &f.Tensors[i]
		if t.Name == short && t.Role.Block() == (layer >= 0) {
			return t, layer, true
		}
	}
	return nil, -1, false
}
