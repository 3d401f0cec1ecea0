package llama2c

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/llmap/llmap/format/arch"
)

// WriteLegacy writes a checkpoint in run.c's headerless version 0 layout,
// so the same weights can be run by llama2.c and by llmap. row(name, r, dst)
// fills dst with row r of the tensor of that .llmap name (vectors have one
// row). The obsolete freq_cis arrays are written as zeros.
func WriteLegacy(w io.Writer, cfg arch.Config, row func(name string, r int, dst []float32)) error {
	c := header{Config: cfg, Version: VersionLegacy}
	if c.Arch != arch.Llama.Name || (c.NHeads > 0 && c.HeadSize != c.Dim/c.NHeads) {
		return fmt.Errorf("llama2.c checkpoints hold llama models with head size dim/n_heads (got %s, head size %d)", c.Arch, c.HeadSize)
	}
	if err := c.validate(); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	vocab := int32(c.VocabSize)
	if !c.SharedClassifier {
		vocab = -vocab
	}
	for _, v := range []int32{int32(c.Dim), int32(c.HiddenDim), int32(c.NLayers), int32(c.NHeads), int32(c.NKVHeads), vocab, int32(c.ContextLength)} {
		if err := binary.Write(bw, binary.LittleEndian, v); err != nil {
			return err
		}
	}
	ents := c.entries()
	buf := make([]float32, max(c.Dim, c.HiddenDim, c.Dim/c.NHeads/2))
	var b [4]byte
	for _, k := range c.order() {
		e := ents[k]
		for l := 0; l < e.layers(c); l++ {
			for r := 0; r < e.rows; r++ {
				dst := buf[:e.cols]
				if e.skip {
					clear(dst)
				} else {
					row(e.tensorName(l), r, dst)
				}
				for _, v := range dst {
					binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
					if _, err := bw.Write(b[:]); err != nil {
						return err
					}
				}
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing checkpoint: %w", err)
	}
	return nil
}
