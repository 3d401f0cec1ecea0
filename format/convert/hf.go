package convert

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/format/safetensors"
	"github.com/llmap/llmap/quant"
)

// HF is a Hugging Face model directory opened for conversion: config.json,
// model.safetensors (or shards with model.safetensors.index.json) and the
// tokenizer files. Its tensors alias the safetensors mappings: keep it open
// until Write returns.
type HF struct {
	Model *Model
	// DType is the type most of the checkpoint's matrices are stored in
	// (F32, F16 or BF16). Tensors that have to be rearranged (GPT-2's
	// transposed Conv1D weights, LLaMA's permuted q/k) carry no raw bytes;
	// a converter that keeps the source types writes them as DType.
	DType quant.Type

	set *safetensors.Set
}

// Close unmaps the safetensors files.
func (h *HF) Close() error { return h.set.Close() }

// HFOptions adjust an import.
type HFOptions struct {
	// Tokenizer, if set, replaces the directory's tokenizer: metadata with
	// the tokenizer.* keys, as returned by LoadTokenizer.
	Tokenizer *format.Metadata
	Name      string // general.name; default: the directory's name
}

// hfConfig is the part of config.json that llmap reads.
type hfConfig struct {
	Architectures []string `json:"architectures"`
	ModelType     string   `json:"model_type"`
	VocabSize     int      `json:"vocab_size"`

	// GPT-2
	NEmbd                 int             `json:"n_embd"`
	NHead                 int             `json:"n_head"`
	NLayer                int             `json:"n_layer"`
	NPositions            int             `json:"n_positions"`
	NInner                *int            `json:"n_inner"`
	LayerNormEpsilon      float64         `json:"layer_norm_epsilon"`
	ActivationFunction    string          `json:"activation_function"`
	ScaleAttnWeights      *bool           `json:"scale_attn_weights"`
	ScaleAttnByLayerIdx   bool            `json:"scale_attn_by_inverse_layer_idx"`
	ReorderAndUpcastAttn  bool            `json:"reorder_and_upcast_attn"`
	TieWordEmbeddings     *bool           `json:"tie_word_embeddings"`
	HiddenSize            int             `json:"hidden_size"`
	IntermediateSize      int             `json:"intermediate_size"`
	NumHiddenLayers       int             `json:"num_hidden_layers"`
	NumAttentionHeads     int             `json:"num_attention_heads"`
	NumKeyValueHeads      int             `json:"num_key_value_heads"`
	MaxPositionEmbeddings int             `json:"max_position_embeddings"`
	RMSNormEps            float64         `json:"rms_norm_eps"`
	RopeTheta             float64         `json:"rope_theta"`
	HeadDim               int             `json:"head_dim"`
	HiddenAct             string          `json:"hidden_act"`
	AttentionBias         bool            `json:"attention_bias"`
	MLPBias               bool            `json:"mlp_bias"`
	RopeScaling           json.RawMessage `json:"rope_scaling"`
	BOSTokenID            json.RawMessage `json:"bos_token_id"`
	EOSTokenID            json.RawMessage `json:"eos_token_id"`
}

// HF architectures llmap imports.
const (
	hfGPT2LMHead = "GPT2LMHeadModel"
	hfGPT2Model  = "GPT2Model"
	hfLlama      = "LlamaForCausalLM"
)

// OpenHF opens the Hugging Face model directory dir (GPT2LMHeadModel,
// GPT2Model or LlamaForCausalLM) and describes it as a source model.
//
// GPT-2's Conv1D weights are stored [in, out]; their rows are read
// transposed. LLaMA's q_proj and k_proj rows are in Hugging Face's
// rotate-half order (within a head of size hs, row j pairs with row j+hs/2);
// they are reordered so that pairs are adjacent, as llmap's RoPE expects:
// llmap row 2i of a head is HF row i, row 2i+1 is HF row i+hs/2.
func OpenHF(dir string, opts HFOptions) (*HF, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	var c hfConfig
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "config.json"), err)
	}
	arch, err := c.arch()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "config.json"), err)
	}
	set, err := safetensors.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	h := &HF{set: set}
	name := opts.Name
	if name == "" {
		name = filepath.Base(filepath.Clean(dir))
	}
	var meta *format.Metadata
	switch arch {
	case hfLlama:
		meta, err = h.llama(dir, &c)
	default:
		meta, err = h.gpt2(dir, &c)
	}
	if err == nil {
		tok := opts.Tokenizer
		if tok == nil {
			tok, err = loadHFTokenizer(dir, &c)
		}
		if err == nil {
			err = mergeTokenizer(meta, tok)
		}
	}
	if err != nil {
		set.Close()
		return nil, err
	}
	h.Model.Meta = withName(meta, name, "Hugging Face "+arch+" ("+filepath.Base(filepath.Clean(dir))+")")
	if err := CheckModel(h.Model); err != nil {
		set.Close()
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return h, nil
}

// arch returns the architecture named by config.json.
func (c *hfConfig) arch() (string, error) {
	for _, a := range c.Architectures {
		switch a {
		case hfGPT2LMHead, hfGPT2Model, hfLlama:
			return a, nil
		}
	}
	if len(c.Architectures) == 0 {
		switch c.ModelType {
		case "gpt2":
			return hfGPT2LMHead, nil
		case "llama":
			return hfLlama, nil
		}
	}
	return "", fmt.Errorf("unknown architecture %v (model_type %q): llmap imports %s, %s and %s",
		c.Architectures, c.ModelType, hfGPT2LMHead, hfGPT2Model, hfLlama)
}

// hfTensor is one source tensor: its info, bytes and element type.
type hfTensor struct {
	info *safetensors.TensorInfo
	data []byte
	typ  quant.Type
}

// lookup finds the first of names in the set and checks that its shape is
// want (outermost first).
func (h *HF) lookup(dir string, want []int64, names ...string) (hfTensor, error) {
	for _, n := range names {
		t, ok := h.set.Tensor(n)
		if !ok {
			continue
		}
		if !slices.Equal(t.Shape, want) {
			return hfTensor{}, fmt.Errorf("%s: tensor %s: shape %v, want %v", dir, n, t.Shape, want)
		}
		typ, err := t.Type()
		if err != nil {
			return hfTensor{}, fmt.Errorf("%s: %w", dir, err)
		}
		data, err := h.set.TensorData(t)
		if err != nil {
			return hfTensor{}, fmt.Errorf("%s: %w", dir, err)
		}
		return hfTensor{info: t, data: data, typ: typ}, nil
	}
	return hfTensor{}, fmt.Errorf("%s: tensor %s: missing", dir, names[0])
}

// add appends src as tensor name unchanged (raw copy possible).
func (h *HF) add(name string, src hfTensor) {
	shape := slices.Clone(src.info.Shape)
	h.Model.Tensors = append(h.Model.Tensors, Tensor{
		Name: name, Shape: shape, Raw: src.data, RawType: src.typ,
		Row: rowDecoder(src.data, src.typ, int(shape[len(shape)-1])),
	})
}

// addTransposed appends the [in, out] Conv1D weight src as the [out, in]
// tensor name, transposing row by row.
func (h *HF) addTransposed(name string, src hfTensor) {
	in, out := int(src.info.Shape[0]), int(src.info.Shape[1])
	data, typ := src.data, src.typ
	h.Model.Tensors = append(h.Model.Tensors, Tensor{
		Name: name, Shape: []int64{int64(out), int64(in)},
		// row r of W is column r of the Conv1D weight: dst[j] = src[j, r]
		Row: func(r int, dst []float32) {
			for j := range dst[:in] {
				dst[j] = element(data, typ, j*out+r)
			}
		},
	})
}

// addRoPEPermuted appends the q_proj or k_proj weight src (rows in HF's
// rotate-half order, heads of headSize rows) as tensor name with the rows
// of each head interleaved: row 2i <- i, row 2i+1 <- i+headSize/2.
func (h *HF) addRoPEPermuted(name string, src hfTensor, headSize int) {
	cols := int(src.info.Shape[1])
	data, typ := src.data, src.typ
	decode := rowDecoder(data, typ, cols)
	h.Model.Tensors = append(h.Model.Tensors, Tensor{
		Name: name, Shape: slices.Clone(src.info.Shape),
		Row: func(r int, dst []float32) {
			decode(hfRoPERow(r, headSize), dst)
		},
	})
}

// hfRoPERow is the HF row that llmap row r of a q/k projection comes from.
func hfRoPERow(r, headSize int) int {
	head, j := r/headSize, r%headSize
	src := j / 2
	if j%2 == 1 {
		src += headSize / 2
	}
	return head*headSize + src
}

// element decodes element i of data stored as typ (F32, F16 or BF16).
func element(data []byte, typ quant.Type, i int) float32 {
	switch typ {
	case quant.F16:
		return quant.FP16ToFP32(binary.LittleEndian.Uint16(data[2*i:]))
	case quant.BF16:
		return quant.BF16ToFP32(binary.LittleEndian.Uint16(data[2*i:]))
	}
	return math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
}

// rowDecoder returns a Row function for row-major data of type typ with
// rows of cols elements.
func rowDecoder(data []byte, typ quant.Type, cols int) func(int, []float32) {
	rowBytes, _ := typ.RowBytes(int64(cols))
	return func(r int, dst []float32) {
		b := data[int64(r)*rowBytes : int64(r+1)*rowBytes]
		if err := quant.DequantizeRef(typ, dst[:cols], b); err != nil {
			panic(err) // sizes were checked when the tensor was described
		}
	}
}

// gpt2 describes a GPT2LMHeadModel or GPT2Model checkpoint. Names may carry
// GPT2LMHeadModel's "transformer." prefix or not (GPT2Model).
func (h *HF) gpt2(dir string, c *hfConfig) (*format.Metadata, error) {
	d, nl, nh, ctx, vocab := c.NEmbd, c.NLayer, c.NHead, c.NPositions, c.VocabSize
	hidden := 4 * d
	if c.NInner != nil && *c.NInner > 0 {
		hidden = *c.NInner
	}
	eps := c.LayerNormEpsilon
	if eps == 0 {
		eps = 1e-5
	}
	switch {
	case d <= 0 || nl <= 0 || nh <= 0 || ctx <= 0 || vocab <= 0:
		return nil, fmt.Errorf("%s: config.json: n_embd %d, n_layer %d, n_head %d, n_positions %d, vocab_size %d must be positive",
			dir, d, nl, nh, ctx, vocab)
	case c.ActivationFunction != "gelu_new" && c.ActivationFunction != "gelu_pytorch_tanh" && c.ActivationFunction != "":
		return nil, fmt.Errorf("%s: config.json: activation_function %q is not supported (llmap's GPT-2 uses the tanh GELU, gelu_new)", dir, c.ActivationFunction)
	case c.ScaleAttnWeights != nil && !*c.ScaleAttnWeights, c.ScaleAttnByLayerIdx:
		return nil, fmt.Errorf("%s: config.json: only the standard 1/sqrt(head_size) attention scaling is supported", dir)
	}
	h.Model = &Model{}
	d64, h64 := int64(d), int64(hidden)
	var err error
	get := func(want []int64, name string) hfTensor {
		if err != nil {
			return hfTensor{}
		}
		var t hfTensor
		t, err = h.lookup(dir, want, "transformer."+name, name)
		return t
	}
	vec := func(dst, src string, n int64) {
		if t := get([]int64{n}, src); err == nil {
			h.add(dst, t)
		}
	}
	conv := func(dst, src string, in, out int64) {
		if t := get([]int64{in, out}, src); err == nil {
			h.addTransposed(dst, t)
		}
	}
	if t := get([]int64{int64(vocab), d64}, "wte.weight"); err == nil {
		h.add(format.TensorTokenEmbd, t)
		h.DType = t.typ
	}
	if t := get([]int64{int64(ctx), d64}, "wpe.weight"); err == nil {
		h.add(format.TensorPositionEmbd, t)
	}
	for l := 0; l < nl; l++ {
		p := "h." + strconv.Itoa(l) + "."
		b := func(s string) string { return format.BlockTensor(l, s) }
		vec(b("attn_norm.weight"), p+"ln_1.weight", d64)
		vec(b("attn_norm.bias"), p+"ln_1.bias", d64)
		conv(b("attn_qkv.weight"), p+"attn.c_attn.weight", d64, 3*d64)
		vec(b("attn_qkv.bias"), p+"attn.c_attn.bias", 3*d64)
		conv(b("attn_output.weight"), p+"attn.c_proj.weight", d64, d64)
		vec(b("attn_output.bias"), p+"attn.c_proj.bias", d64)
		vec(b("ffn_norm.weight"), p+"ln_2.weight", d64)
		vec(b("ffn_norm.bias"), p+"ln_2.bias", d64)
		conv(b("ffn_up.weight"), p+"mlp.c_fc.weight", d64, h64)
		vec(b("ffn_up.bias"), p+"mlp.c_fc.bias", h64)
		conv(b("ffn_down.weight"), p+"mlp.c_proj.weight", h64, d64)
		vec(b("ffn_down.bias"), p+"mlp.c_proj.bias", d64)
	}
	vec(format.TensorOutputNorm, "ln_f.weight", d64)
	vec("output_norm.bias", "ln_f.bias", d64)
	if err != nil {
		return nil, err
	}
	// GPT-2 ties the classifier to wte unless tie_word_embeddings is false.
	shared := c.TieWordEmbeddings == nil || *c.TieWordEmbeddings
	if _, ok := h.set.Tensor("lm_head.weight"); ok && !shared {
		t, err := h.lookup(dir, []int64{int64(vocab), d64}, "lm_head.weight")
		if err != nil {
			return nil, err
		}
		h.add(format.TensorOutput, t)
	} else if !shared {
		return nil, fmt.Errorf("%s: tensor lm_head.weight: missing (tie_word_embeddings is false)", dir)
	}

	return Hyperparameters{
		Arch: format.ArchGPT2, Dim: d, HiddenDim: hidden, NLayers: nl, NHeads: nh, NKVHeads: nh,
		VocabSize: vocab, ContextLength: ctx, NormEps: float32(eps), SharedClassifier: shared,
	}.Metadata("", ""), nil
}

// llama describes a LlamaForCausalLM checkpoint.
func (h *HF) llama(dir string, c *hfConfig) (*format.Metadata, error) {
	d, hidden, nl, nh, vocab := c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers, c.NumAttentionHeads, c.VocabSize
	nkv := c.NumKeyValueHeads
	if nkv == 0 {
		nkv = nh
	}
	ctx := c.MaxPositionEmbeddings
	eps, theta := c.RMSNormEps, c.RopeTheta
	if eps == 0 {
		eps = 1e-6
	}
	if theta == 0 {
		theta = 10000
	}
	cfg := filepath.Join(dir, "config.json")
	switch {
	case d <= 0 || hidden <= 0 || nl <= 0 || nh <= 0 || vocab <= 0 || ctx <= 0:
		return nil, fmt.Errorf("%s: hidden_size %d, intermediate_size %d, num_hidden_layers %d, num_attention_heads %d, vocab_size %d, max_position_embeddings %d must be positive",
			cfg, d, hidden, nl, nh, vocab, ctx)
	case d%nh != 0 || nh%nkv != 0 || (d/nh)%2 != 0:
		return nil, fmt.Errorf("%s: hidden_size %d, num_attention_heads %d and num_key_value_heads %d do not give an even head size shared by whole groups", cfg, d, nh, nkv)
	case c.HeadDim != 0 && c.HeadDim != d/nh:
		return nil, fmt.Errorf("%s: head_dim %d is not hidden_size/num_attention_heads = %d", cfg, c.HeadDim, d/nh)
	case c.HiddenAct != "" && c.HiddenAct != "silu":
		return nil, fmt.Errorf("%s: hidden_act %q is not supported (want silu)", cfg, c.HiddenAct)
	case c.AttentionBias || c.MLPBias:
		return nil, fmt.Errorf("%s: attention_bias/mlp_bias are not supported", cfg)
	case len(c.RopeScaling) > 0 && string(c.RopeScaling) != "null":
		return nil, fmt.Errorf("%s: rope_scaling %s is not supported", cfg, c.RopeScaling)
	}
	hs := d / nh
	kvDim := int64(hs * nkv)
	d64, h64 := int64(d), int64(hidden)
	h.Model = &Model{}
	var err error
	get := func(want []int64, name string) hfTensor {
		if err != nil {
			return hfTensor{}
		}
		var t hfTensor
		t, err = h.lookup(dir, want, name)
		return t
	}
	plain := func(dst, src string, shape ...int64) {
		if t := get(shape, src); err == nil {
			h.add(dst, t)
		}
	}
	rope := func(dst, src string, shape ...int64) {
		if t := get(shape, src); err == nil {
			h.addRoPEPermuted(dst, t, hs)
		}
	}
	if t := get([]int64{int64(vocab), d64}, "model.embed_tokens.weight"); err == nil {
		h.add(format.TensorTokenEmbd, t)
		h.DType = t.typ
	}
	for l := 0; l < nl; l++ {
		p := "model.layers." + strconv.Itoa(l) + "."
		b := func(s string) string { return format.BlockTensor(l, s) }
		plain(b("attn_norm.weight"), p+"input_layernorm.weight", d64)
		rope(b("attn_q.weight"), p+"self_attn.q_proj.weight", d64, d64)
		rope(b("attn_k.weight"), p+"self_attn.k_proj.weight", kvDim, d64)
		plain(b("attn_v.weight"), p+"self_attn.v_proj.weight", kvDim, d64)
		plain(b("attn_output.weight"), p+"self_attn.o_proj.weight", d64, d64)
		plain(b("ffn_norm.weight"), p+"post_attention_layernorm.weight", d64)
		plain(b("ffn_gate.weight"), p+"mlp.gate_proj.weight", h64, d64)
		plain(b("ffn_down.weight"), p+"mlp.down_proj.weight", d64, h64)
		plain(b("ffn_up.weight"), p+"mlp.up_proj.weight", h64, d64)
	}
	plain(format.TensorOutputNorm, "model.norm.weight", d64)
	if err != nil {
		return nil, err
	}
	// The classifier is lm_head.weight unless the embeddings are tied
	// (tie_word_embeddings, false by default for LLaMA) or it is absent.
	tied := c.TieWordEmbeddings != nil && *c.TieWordEmbeddings
	_, hasHead := h.set.Tensor("lm_head.weight")
	shared := tied || !hasHead
	if !shared {
		t, err := h.lookup(dir, []int64{int64(vocab), d64}, "lm_head.weight")
		if err != nil {
			return nil, err
		}
		h.add(format.TensorOutput, t)
	}
	return Hyperparameters{
		Arch: format.ArchLlama, Dim: d, HiddenDim: hidden, NLayers: nl, NHeads: nh, NKVHeads: nkv,
		VocabSize: vocab, ContextLength: ctx, NormEps: float32(eps), RopeBase: float32(theta),
		SharedClassifier: shared,
	}.Metadata("", ""), nil
}
