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
	"strings"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/format/arch"
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

// OpenHF opens the Hugging Face model directory dir of a family llmap
// imports (format/arch: LlamaForCausalLM, GPT2LMHeadModel, GPT2Model, ...)
// and describes it as a source model, reading the tensors the family's
// table names.
//
// Tensors are rearranged as the table's layouts say: GPT-2's Conv1D
// weights are stored [in, out] and read transposed; LLaMA's q_proj and
// k_proj rows are in Hugging Face's rotate-half order (within a head of size
// hs, row j pairs with row j+hs/2) and are reordered so that pairs are
// adjacent, as llmap's LLaMA RoPE expects: llmap row 2i of a head is HF row
// i, row 2i+1 is HF row i+hs/2.
func OpenHF(dir string, opts HFOptions) (*HF, error) {
	cfgPath := filepath.Join(dir, "config.json")
	raw, err := os.ReadFile(cfgPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	j, err := arch.ParseHFConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfgPath, err)
	}
	fam, hfArch, err := arch.HFFamily(j)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfgPath, err)
	}
	c, err := fam.HF.Config(j)
	if err == nil {
		err = c.Validate()
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfgPath, err)
	}
	set, err := safetensors.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	h := &HF{set: set, Model: &Model{}}
	name := opts.Name
	if name == "" {
		name = filepath.Base(filepath.Clean(dir))
	}
	err = h.tensors(dir, fam, &c, j)
	meta := c.Metadata("", "")
	if err == nil {
		tok := opts.Tokenizer
		if tok == nil {
			var tc hfConfig
			_ = json.Unmarshal(raw, &tc) // parsed once already; only the token ids are read
			tok, err = loadHFTokenizer(dir, &tc)
		}
		if err == nil {
			err = mergeTokenizer(meta, tok)
		}
	}
	if err != nil {
		set.Close()
		return nil, err
	}
	h.Model.Meta = withName(meta, name, "Hugging Face "+hfArch+" ("+filepath.Base(filepath.Clean(dir))+")")
	for _, n := range j.Notes() {
		h.Model.Notes = append(h.Model.Notes, cfgPath+": "+n)
	}
	if err := CheckModel(h.Model); err != nil {
		set.Close()
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return h, nil
}

// tensors describes the tensors of the family's table, in its order, and
// decides c.SharedClassifier: tie_word_embeddings (the family's default
// when absent), or no lm_head.weight when config.json does not say.
func (h *HF) tensors(dir string, fam *arch.Family, c *arch.Config, j *arch.HFConfig) error {
	tied, explicit := j.Bool("tie_word_embeddings")
	if !explicit {
		tied = fam.HF.TiedByDefault
	}
	for _, e := range fam.Entries(c) {
		if v := j.Derived(e.Role); v != nil && e.Layer < 0 {
			if int64(len(v)) != e.Shape[0] {
				return fmt.Errorf("%s: tensor %s computed from config.json has %d values, want %d", dir, e.Name, len(v), e.Shape[0])
			}
			h.addVector(e.Name, v)
			continue
		}
		if e.HF == "" {
			if e.Required(c) && e.Role != arch.RoleOutput {
				return fmt.Errorf("%s: tensor %s: no Hugging Face name known", dir, e.Name)
			}
			continue
		}
		src := strings.ReplaceAll(e.HF, "%d", strconv.Itoa(e.Layer))
		want := e.Shape
		if e.HFLayout == arch.HFTransposed {
			want = []int64{want[1], want[0]}
		}
		names := []string{src}
		if len(fam.HF.Prefixes) > 0 {
			names = names[:0]
			for _, p := range fam.HF.Prefixes {
				names = append(names, p+src)
			}
		}
		if e.Role == arch.RoleOutput {
			_, found, _ := h.lookup(dir, want, names...)
			c.SharedClassifier = tied || (!explicit && !found)
			if c.SharedClassifier {
				continue
			}
			if !found {
				return fmt.Errorf("%s: tensor %s: missing (tie_word_embeddings is false)", dir, src)
			}
		}
		t, found, err := h.lookup(dir, want, names...)
		switch {
		case err != nil:
			return err
		case !found && e.Optional:
			continue
		case !found:
			return fmt.Errorf("%s: tensor %s: missing", dir, names[0])
		}
		switch e.HFLayout {
		case arch.HFTransposed:
			h.addTransposed(e.Name, t)
		case arch.HFRotateHalf:
			h.addRoPEPermuted(e.Name, t, c.HeadSize)
		default:
			h.add(e.Name, t)
		}
		if e.Role == arch.RoleTokenEmbedding {
			h.DType = t.typ
		}
	}
	return nil
}

// hfTensor is one source tensor: its info, bytes and element type.
type hfTensor struct {
	info *safetensors.TensorInfo
	data []byte
	typ  quant.Type
}

// lookup finds the first of names in the set and checks that its shape is
// want (outermost first); found is false if none is there.
func (h *HF) lookup(dir string, want []int64, names ...string) (t hfTensor, found bool, err error) {
	for _, n := range names {
		info, ok := h.set.Tensor(n)
		if !ok {
			continue
		}
		if !slices.Equal(info.Shape, want) {
			return hfTensor{}, true, fmt.Errorf("%s: tensor %s: shape %v, want %v", dir, n, info.Shape, want)
		}
		typ, err := info.Type()
		if err != nil {
			return hfTensor{}, true, fmt.Errorf("%s: %w", dir, err)
		}
		data, err := h.set.TensorData(info)
		if err != nil {
			return hfTensor{}, true, fmt.Errorf("%s: %w", dir, err)
		}
		return hfTensor{info: info, data: data, typ: typ}, true, nil
	}
	return hfTensor{}, false, nil
}

// add appends src as tensor name unchanged (raw copy possible).
func (h *HF) add(name string, src hfTensor) {
	shape := slices.Clone(src.info.Shape)
	h.Model.Tensors = append(h.Model.Tensors, Tensor{
		Name: name, Shape: shape, Raw: src.data, RawType: src.typ,
		Row: rowDecoder(src.data, src.typ, int(shape[len(shape)-1])),
	})
}

// addVector appends the f32 vector v as tensor name.
func (h *HF) addVector(name string, v []float32) {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	h.Model.Tensors = append(h.Model.Tensors, Tensor{
		Name: name, Shape: []int64{int64(len(v))}, Raw: raw, RawType: quant.F32,
		Row: func(_ int, dst []float32) { copy(dst, v) },
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
