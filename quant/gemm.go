package quant

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"
)

// Matrix-matrix products for prompt processing (GEMM): a weight matrix
// times a batch of activation vectors, one per prompt token. A matrix-vector
// product reads every weight once per token and is bound by memory; here a
// tile of weight rows stays in the L1 cache while it meets every token of
// the batch, and a register tile of several rows x several tokens reuses
// each loaded weight and activation block several times, so the product is
// bound by arithmetic instead.
//
// Like MatVec, the kernels come in tiers: gemmRef (scalar, the definition),
// gemmGeneric (portable Go, the noasm tier), then assembly tiers chosen at
// init from the CPU (gemm_amd64.go): AVX2 (VPMADDUBSW for the int8 types,
// FMA for the float types) and AVX-512 (VPDPBUSD, VNNI, for the int8 types;
// 16-wide FMA for F32, F16 and BF16). A batch of one vector
// (decode, bound by memory) never goes through a register tile: it takes
// one-vector kernels (Q4_0, and F16 with AVX-512) or the rows kernels
// MatVec uses.

// Batch is a batch of activation vectors prepared once for products with
// matrices of one type, as Vec is for one vector: for Q8_0 and Q4_0
// matrices each vector is quantised to Q8_0-style blocks (d = max|x|/127,
// rounded to fp16, exactly as Vec.Set does, so a batched product computes
// the same integer dot products as MatVec), and for F32, F16 and BF16 it
// is copied (float32 activations, as MatVec uses); for the K-quants each
// vector is quantised to Q8_K super-blocks, as Vec.Set does. The token dimension is
// padded with zero vectors to a multiple of gemmTokenPad so that the kernels
// only ever see whole register tiles.
type Batch struct {
	n, cols int  // vectors set, elements each
	t       Type // matrix type the batch was prepared for
	nb      int  // blocks per vector (cols/32) for quantised types

	x      []float32 // (nPad, cols) float activations (F32, F16)
	q      []byte    // (nPad, nb*32) int8 quants (Q8_0, Q4_0)
	d      []float32 // (nPad, nb) block scales (Q8_0, Q4_0)
	bias   []int32   // (nPad, nb*8) -128 x the sum of each group of 4 quants (VNNI tier, Q8_0)
	bias4  []int32   // (nPad, nb*8) -8 x the same (VNNI tier, Q4_0)
	xc     []float32 // (nPad, nb) 8 x scale x the sum of a block's quants (one-vector Q4_0 kernel)
	q34    []byte    // (nb*34) the first vector as Q8_0 blocks, as Vec holds it (one-vector Q8_0: the rows kernel)
	q8k    []byte    // (n, cols/256*292) each vector as Q8_K super-blocks (the K-quants)
	x4     []byte    // (n, nb/4*256) the vectors in the x4 layout of the small-batch tiles, if useX4
	useX4  bool      // x4 is set: 2..x4MaxTokens Q8_0 vectors or one Q4_0 vector of at least 4 blocks, on a CPU with the tiles
	x8     []byte    // (n, nb/8*384) the vectors in the x8 layout of the 2x8 tile, if useX8
	useX8  bool      // x8 is set for the vectors of whole groups of eight, x4 for the rest only: x8MinTokens..x4MaxTokens Q8_0 vectors, nb >= 8 and nb%8 < 4
	xa     []byte    // (ceil(n/8), nb/2*576) the groups of eight vectors in the AMX layout, if useAMX
	useAMX bool      // xa is set (in place of x8 and x4) for the vectors amxVec says: amxMinTokens..x4MaxTokens Q8_0 vectors or amxQ4_0MinTokens..x4MaxTokens Q4_0 vectors on a CPU with AMX, nb%4 == 0

	// The packed layout of the AVX2 tier's float32 GEMM (packed is set
	// when the tier that was selected at Prepare has it and the batch has
	// at least packedMinTokens vectors): xp holds the vectors in groups of
	// 16, each group kp columns of 16 floats (vector i's element k at
	// xp[(i/16*kp+k)*16+i%16]); float types as they are, Q8_0 and Q4_0 as
	// their dequantised quants (xq*dx, exactly the int8 path's products).
	// Padding vectors and columns past cols are zero.
	xp     []float32
	q16    []int16 // (nPad, nb*32) the quants as int16, for the Q8_0 integer kernel of the packed tier
	kp     int     // cols rounded up to a multiple of 8
	packed bool

	// dirtyQ and dirtyX bound what may be non-zero in the storage of q, d,
	// bias, bias4 and xc (in blocks) and of x (in elements): Prepare clears
	// only the padding vectors' part of that, so that preparing one vector
	// after another (decoding) clears nothing.
	dirtyQ, dirtyX int

	maxTokens, maxCols int
}

// dirtyAfter is what may be non-zero in storage that had dirty elements
// (from its start) non-zero, after a batch of set elements and padding up
// to pad was prepared: the set elements, and what lies past the padding.
func dirtyAfter(dirty, set, pad int) int {
	if dirty > pad {
		return dirty
	}
	return set
}

// x4Layout says whether this CPU has the small-batch tiles that read the
// x4 layout (gemm_small_avx512_amd64.go); x4MaxTokens is the largest batch
// prepared in it: BatchRows, so decoding steps of continuous batching (one
// vector per sequence), the steps in which new prompts join them and prompt
// chunks all take the 2x8 tile (with the x8 layout: 0.24-0.29 ns per block
// and vector at 16-128 vectors, where the 4x4 tile of
// gemm_avx512_amd64.s took 0.42-0.58; BenchmarkMatMulDecode).
var x4Layout = false

// x8Layout says whether this CPU has the 2x8 tile that reads the x8 layout.
var x8Layout = false

const x4MaxTokens = 128

// x4Q4_0 says whether one Q4_0 vector is prepared in the x4 layout too (with
// x4Layout), for the one-vector kernel that reads it (gemm_avx512_amd64.go:
// it needs AVX-512 VBMI besides the tiles' features).
var x4Q4_0 = false

// amxLayout says whether this CPU multiplies groups of eight Q8_0 or Q4_0
// vectors with AMX tiles (gemm_amx_amd64.go), reading the AMX layout (setAMX).
var amxLayout = false

// amxMinTokens is the smallest batch prepared in the AMX layout, and the
// fewest vectors of its last group of eight that take the tiles (padded
// with zero vectors); one or two left over take the x4 tiles. The tiles
// cost the same for 3-8 vectors: per block and vector, 3 vectors padded
// measured 0.39-0.57 ns against 0.42-0.60 on the x4 tiles, 7 vectors
// 0.17-0.24 against 0.31-0.38, 2 vectors 0.59-0.85 against 0.53-0.80
// (BenchmarkMatMulDecode).
const amxMinTokens = 3

// amxQ4_0MinTokens is the smallest Q4_0 batch prepared in the AMX layout
// (gemmQ4_0AMX: its weights converted to Q8_0 blocks once per panel of 16
// rows, then multiplied with every group of eight vectors, the last one
// padded). Per block and vector, one thread, on 2304x768, 256x2048 and
// 256x5632: 5 vectors 0.51-0.57 ns against 0.83-0.92 on the 4x4 VNNI
// tile, 8 vectors 0.31-0.36 against 0.52-0.58; 4 vectors 0.68-0.71
// against 0.51-0.63 (the tile fits them exactly), 3 vectors 0.89-0.95
// against 0.68-0.82.
const amxQ4_0MinTokens = 5

// x8MinTokens is the smallest batch also prepared in the x8 layout (the
// 2x8 tile's groups of eight vectors read it).
const x8MinTokens = 8

// gemmTokenPad is the multiple the token dimension of a Batch is padded to:
// a common multiple of every tier's register tile.
const gemmTokenPad = 12

// NewBatch allocates scratch for up to maxTokens vectors of up to maxCols
// elements.
func NewBatch(maxTokens, maxCols int) *Batch {
	maxTokens, maxCols = max(maxTokens, 1), max(maxCols, 0)
	return &Batch{maxTokens: maxTokens, maxCols: maxCols}
}

// padTokens rounds n up to a multiple of gemmTokenPad.
func padTokens(n int) int { return (n + gemmTokenPad - 1) / gemmTokenPad * gemmTokenPad }

// grow returns s with length n, reusing its storage when it is big enough;
// the storage only grows up to the NewBatch capacity, on first use. New
// storage of at least alignMinBytes starts on a 4 KiB page (pageAligned).
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return pageAligned[T](n)
	}
	return s[:n]
}

// Activation buffers start on a page: the one-vector kernels read a
// vector once per weight row, and where one of its 64-byte loads is split
// across two pages every row pays for it: on the Xeon VMs the Q4_K/Q6_K
// generation kernels ran 3.5-5% slower with the 2048-column Q8_K vector
// (2336 bytes) crossing a page than at any offset inside one (session 10,
// docs/benchmarks.md). Go puts a small allocation wherever its size class
// has a free slot, so without this a run's speed depended on the
// allocator's history.
const (
	alignPage     = 4096
	alignMinBytes = 1024
)

// pageAligned returns a zeroed slice of n Ts that starts on a 4 KiB page
// when it is at least alignMinBytes long (it over-allocates by one page);
// shorter slices are a plain make.
func pageAligned[T any](n int) []T {
	var zero T
	size := int(unsafe.Sizeof(zero))
	if size == 0 || alignPage%size != 0 || n*size < alignMinBytes {
		return make([]T, n)
	}
	s := make([]T, n+alignPage/size)
	// Go aligns s to its element's size, which divides the page, so the
	// distance to the next page start is a whole number of elements.
	off := (alignPage - int(uintptr(unsafe.Pointer(unsafe.SliceData(s))))%alignPage) % alignPage / size
	return s[off : off+n]
}

// Set prepares the vectors xs (each of the same length) for products with
// matrices of type t. The vectors are copied or quantised, so they may change
// afterwards. For quantised t the length must be a multiple of t's block
// size (32, or 256 for the K-quants).
func (b *Batch) Set(xs [][]float32, t Type) {
	n := len(xs)
	if n == 0 {
		panic(fmt.Sprintf("quant: Batch.Set: %d vectors, want 1..%d", n, b.maxTokens))
	}
	for _, x := range xs {
		if len(x) != len(xs[0]) {
			panic("quant: Batch.Set: vectors of different lengths")
		}
	}
	b.Prepare(t, n, len(xs[0]))
	for i, x := range xs {
		b.SetPart(i, 0, x)
	}
}

// Reserve allocates the batch's storage for NewBatch's capacity and
// matrices of type t, so that no later Set or Prepare for t allocates.
func (b *Batch) Reserve(t Type) {
	cols := b.maxCols
	if t.Quantized() {
		cols = cols / t.BlockSize() * t.BlockSize()
	}
	if b.maxTokens > 0 && cols > 0 {
		n, c, typ := b.n, b.cols, b.t
		b.Prepare(t, b.maxTokens, cols)
		b.n, b.cols, b.t = n, c, typ
	}
}

// Prepare shapes the batch for n vectors of cols elements, for products
// with matrices of type t, without setting them: SetPart does, part by
// part, so that the goroutines that compute the activations can prepare
// them too. Prepare clears the padding vectors; every element of the n
// vectors must then be set before a MatMul.
func (b *Batch) Prepare(t Type, n, cols int) {
	if n <= 0 || n > b.maxTokens {
		panic(fmt.Sprintf("quant: Batch.Set: %d vectors, want 1..%d", n, b.maxTokens))
	}
	if cols > b.maxCols {
		panic(fmt.Sprintf("quant: Batch.Set: length %d exceeds the NewBatch capacity %d", cols, b.maxCols))
	}
	b.n, b.cols, b.t = n, cols, t
	b.packed = false
	np := padTokens(n)
	if types[t].act == actQ8_K {
		// Each vector as Q8_K super-blocks, the encoding Vec.Set makes;
		// no padding vectors (the rows kernels take one at a time),
		// except in batches of at least packedMinTokens, which the
		// panel kernels of the AVX2 and AVX-512 tiers take six at a time.
		if cols%superLen != 0 {
			panic(fmt.Sprintf("quant: Batch.Set: length %d is not a multiple of %d", cols, superLen))
		}
		b.nb = cols / superLen
		b.packed = packedGEMM && n >= packedMinTokens
		nk := n
		if n >= packedMinTokens {
			nk = np
		}
		b.q8k = grow(b.q8k, nk*b.nb*sizeQ8_K)
		clear(b.q8k[n*b.nb*sizeQ8_K:])
		return
	}
	switch t {
	case Q8_0, Q4_0:
		if cols%32 != 0 {
			panic(fmt.Sprintf("quant: Batch.Set: length %d is not a multiple of 32", cols))
		}
		nb := cols / 32
		b.nb = nb
		b.q = grow(b.q, np*nb*32)
		b.d = grow(b.d, np*nb)
		b.bias = grow(b.bias, np*nb*8)
		b.bias4 = grow(b.bias4, np*nb*8)
		b.xc = grow(b.xc, np*nb)
		b.q34 = grow(b.q34, nb*34)
		b.useX4 = x4Layout && nb >= 4 && (t == Q8_0 && n >= 2 && n <= x4MaxTokens || t == Q4_0 && n == 1 && x4Q4_0)
		if x4Layout && nb >= 4 {
			b.x4 = grow(b.x4, min(b.maxTokens, x4MaxTokens)*b.x4Stride())
		}
		// x8 only where its blocks after the last group of eight are those
		// after the last group of four (nb%8 < 4), so the x4 tiles of the
		// other vectors and the x8 tile leave the same tail.
		b.useAMX = amxLayout && nb%4 == 0 && (b.useX4 && t == Q8_0 && n >= amxMinTokens ||
			t == Q4_0 && n >= amxQ4_0MinTokens && n <= x4MaxTokens)
		if amxLayout && nb%4 == 0 {
			b.xa = grow(b.xa, (min(b.maxTokens, x4MaxTokens)+7)/8*b.xaStride())
		}
		if n%8 != 0 && b.amxVec(n-1) {
			// the last group's padding vectors are zero
			clear(b.xa[n/8*b.xaStride() : (n/8+1)*b.xaStride()])
		}
		b.useX8 = b.useX4 && x8Layout && t == Q8_0 && nb >= 8 && nb%8 < 4 && n >= x8MinTokens && !b.useAMX
		if b.useX8 {
			b.x8 = grow(b.x8, n*b.x8Stride())
		}
		if lo, hi := n*nb, min(b.dirtyQ, np*nb); lo < hi {
			clear(b.q[lo*32 : hi*32])
			clear(b.d[lo:hi])
			clear(b.bias[lo*8 : hi*8])
			clear(b.bias4[lo*8 : hi*8])
			clear(b.xc[lo:hi])
		}
		b.dirtyQ = dirtyAfter(b.dirtyQ, n*nb, np*nb)
	default:
		b.x = grow(b.x, np*cols)
		if lo, hi := n*cols, min(b.dirtyX, np*cols); lo < hi {
			clear(b.x[lo:hi])
		}
		b.dirtyX = dirtyAfter(b.dirtyX, n*cols, np*cols)
	}
	b.packed = packedGEMM && n >= packedMinTokens
	if b.packedInt() && t == Q8_0 {
		b.q16 = grow(b.q16, np*b.nb*32)
		clear(b.q16[n*b.nb*32:])
	}
	if b.usesXP() {
		kp, ng := (cols+7)&^7, (n+15)/16
		b.kp = kp
		b.xp = grow(b.xp, ng*kp*16)
		for g := range ng - 1 {
			clear(b.xp[(g*kp+cols)*16 : (g+1)*kp*16])
		}
		clear(b.xp[(ng-1)*kp*16 : ng*kp*16])
	}
}

// packedGEMM says whether the selected tier multiplies batches of at least
// packedMinTokens vectors in the packed layout (Batch.xp); the AVX2 tier
// does. Below that many vectors converting the weights to float32 costs
// more than it saves.
var (
	packedGEMM      = false
	packedMinTokens = 16
)

// packedQ4_0Int, packedQ8_0Int and packedKInt say whether the packed tier
// multiplies Q4_0, Q8_0 and K-quant batches with its integer kernels
// (gemmPanelIntAVX2; kTilesAVX2 for Q4_K and Q6_K), which read the quants
// (q for Q4_0, q16 for Q8_0, q8k for the K-quants) and scales, so that
// such a batch needs no packed layout. A K-quant batch may meet matrices
// of every K type (q/k/v of Q4_K with Q6_K), so all are padded for them.
var packedQ4_0Int, packedQ8_0Int, packedKInt = false, false, false

// usesXP says whether the batch is written in the packed layout xp: a
// packed batch, unless its type has an integer kernel.
func (b *Batch) usesXP() bool {
	return b.packed && !b.packedInt()
}

// packedInt says whether the batch is multiplied by an integer kernel of
// the packed tier.
func (b *Batch) packedInt() bool {
	return b.packed && (b.t == Q4_0 && packedQ4_0Int || b.t == Q8_0 && packedQ8_0Int || types[b.t].act == actQ8_K && packedKInt)
}

// widenQ8Impl writes the quants q (whole blocks of 32) as int16 (Batch.q16);
// assembly where the packed tier is.
var widenQ8Impl = widenQ8Generic

// widenQ8Generic is the definition of widenQ8Impl.
func widenQ8Generic(q16 []int16, q []byte) {
	for i, v := range q {
		q16[i] = int16(int8(v))
	}
}

// setPacked writes elements [col, col+len(x)) of vector i to the packed
// layout: x itself for float types, the dequantised quants for Q8_0 and
// Q4_0 (already in q and d).
func (b *Batch) setPacked(i, col int, x []float32) {
	xp := b.xp[(i/16*b.kp+col)*16+i%16:]
	if b.t == Q8_0 || b.t == Q4_0 {
		packQ8Impl(xp, b.q[i*b.nb*32+col:][:len(x)], b.d[i*b.nb+col/32:][:len(x)/32])
		return
	}
	packF32Impl(xp, x)
}

// packQ8Impl and packF32Impl write the packed layout, element e to
// xp[16e] (assembly where the packed tier is; the generic versions are the
// definition).
var (
	packQ8Impl  = packQ8Generic
	packF32Impl = packF32Generic
)

// packQ8Generic writes the quants q (whole blocks of 32) times their
// blocks' scales d.
func packQ8Generic(xp []float32, q []byte, d []float32) {
	for k := 0; k < len(q); k += 32 {
		dk := d[k/32]
		for j, v := range q[k : k+32] {
			xp[(k+j)*16] = float32(int8(v)) * dk
		}
	}
}

// packF32Generic writes x.
func packF32Generic(xp []float32, x []float32) {
	for j, v := range x {
		xp[j*16] = v
	}
}

// SetPart sets elements [col, col+len(x)) of vector i of a batch shaped by
// Prepare. Goroutines may set disjoint parts at the same time. For
// quantised types col and len(x) are multiples of the block size (whole blocks: 32, 256 for the K-quants).
func (b *Batch) SetPart(i, col int, x []float32) {
	if i < 0 || i >= b.n || col < 0 || col+len(x) > b.cols {
		panic(fmt.Sprintf("quant: Batch.SetPart: vector %d, elements [%d,%d) of a batch of %d x %d", i, col, col+len(x), b.n, b.cols))
	}
	if types[b.t].act == actQ8_K {
		if col%superLen != 0 || len(x)%superLen != 0 {
			panic(fmt.Sprintf("quant: Batch.SetPart: elements [%d,%d) are not whole super-blocks", col, col+len(x)))
		}
		off := (i*b.nb + col/superLen) * sizeQ8_K
		kernels.quantQ8_K(b.q8k[off:off+len(x)/superLen*sizeQ8_K], x)
		return
	}
	switch b.t {
	case Q8_0, Q4_0:
		if col%32 != 0 || len(x)%32 != 0 {
			panic(fmt.Sprintf("quant: Batch.SetPart: elements [%d,%d) are not whole blocks", col, col+len(x)))
		}
		nb, k0 := b.nb, col/32
		k1 := k0 + len(x)/32
		var q34 []byte
		if i == 0 {
			q34 = b.q34[34*k0 : 34*k1]
		}
		quantizeBatchImpl(b.q[(i*nb+k0)*32:(i*nb+k1)*32], b.d[i*nb+k0:i*nb+k1], b.bias[(i*nb+k0)*8:(i*nb+k1)*8],
			b.bias4[(i*nb+k0)*8:(i*nb+k1)*8], b.xc[i*nb+k0:i*nb+k1], q34, x)
		if b.packedInt() && b.t == Q8_0 {
			widenQ8Impl(b.q16[(i*nb+k0)*32:(i*nb+k1)*32], b.q[(i*nb+k0)*32:(i*nb+k1)*32])
		}
		// The groups of eight vectors read only the x8 layout where the
		// batch has it (gemmQ8_0X4); the rest read x4.
		if b.amxVec(i) {
			b.setAMX(i, k0, k1)
		} else if b.useX8 && i < b.n&^7 {
			b.setX8(i, k0, min(k1, nb&^7))
		} else if b.useX4 {
			b.setX4(i, k0, min(k1, nb&^3))
		}
	default:
		copy(b.x[i*b.cols+col:], x)
	}
	if b.usesXP() {
		b.setPacked(i, col, x)
	}
}

// x4Stride is the size in bytes of one vector in the x4 layout.
func (b *Batch) x4Stride() int { return b.nb / 4 * 256 }

// setX4 writes blocks [k0, k1) of vector i (already in q, d and bias) in
// the x4 layout: per group of four blocks, 256 bytes: the first 16 quants
// of each block (64 bytes), the last 16 of each, the int32 bias of each
// lane (the -128 x sum biases, -8 x sum for Q4_0, of the two groups of
// four quants the lane meets: quants 4l..4l+3 and 16+4l..16+4l+3 of block
// k for lane 4k+l)
// and each block's scale in its four lanes. One Q4_0 vector (its kernel
// reads the scales from d) leaves the scale lanes out: 192 bytes per
// group, a quarter less of the L1 cache for the vector (3-4 points more
// of the read bandwidth on rows of 5632 columns in the kernel harness).
// Each block's bytes are its own, so goroutines may write disjoint blocks
// of a group.
func (b *Batch) setX4(i, k0, k1 int) {
	nb := b.nb
	x4 := b.x4[i*b.x4Stride():]
	gs := 256
	if b.t == Q4_0 {
		gs = 192
	}
	for k := k0; k < k1; k++ {
		g := x4[k/4*gs:][:gs]
		j := k % 4
		q := b.q[(i*nb+k)*32:][:32]
		copy(g[16*j:16*j+16], q[:16])
		copy(g[64+16*j:64+16*j+16], q[16:])
		bias := b.bias[(i*nb+k)*8:][:8]
		if b.t == Q4_0 {
			bias = b.bias4[(i*nb+k)*8:][:8]
		}
		d := math.Float32bits(b.d[i*nb+k])
		for l := range 4 {
			binary.LittleEndian.PutUint32(g[128+16*j+4*l:], uint32(bias[l]+bias[4+l]))
			if gs == 256 {
				binary.LittleEndian.PutUint32(g[192+16*j+4*l:], d)
			}
		}
	}
}

// x8Stride is the size in bytes of one vector in the x8 layout.
func (b *Batch) x8Stride() int { return b.nb / 8 * 384 }

// x8Pos is the position (qword of the 2x8 tile's registers) of block j of
// a group of eight: the order its weight shuffles leave the blocks in.
var x8Pos = [8]int{0, 1, 4, 5, 2, 3, 6, 7}

// setX8 writes blocks [k0, k1) of vector i (already in q, d and bias) in
// the x8 layout: per group of eight blocks, 384 bytes: four segments of
// 64 bytes, segment m holding quants 8m..8m+7 of block j at 8*x8Pos[j];
// the int32 bias of each lane (lane 2p+h of block j at position p meets
// the groups of four quants 2m+h of the four segments: bias[h], bias[2+h],
// bias[4+h], bias[6+h] summed); each block's scale in its two lanes.
// Each block's bytes are its own, so goroutines may write disjoint blocks
// of a group.
func (b *Batch) setX8(i, k0, k1 int) {
	nb := b.nb
	x8 := b.x8[i*b.x8Stride():]
	for k := k0; k < k1; k++ {
		g := x8[k/8*384:][:384]
		p := x8Pos[k%8]
		q := b.q[(i*nb+k)*32:][:32]
		for m := range 4 {
			copy(g[64*m+8*p:64*m+8*p+8], q[8*m:8*m+8])
		}
		bias := b.bias[(i*nb+k)*8:][:8]
		d := math.Float32bits(b.d[i*nb+k])
		for h := range 2 {
			binary.LittleEndian.PutUint32(g[256+8*p+4*h:], uint32(bias[h]+bias[2+h]+bias[4+h]+bias[6+h]))
			binary.LittleEndian.PutUint32(g[320+8*p+4*h:], d)
		}
	}
}

// amxVec says whether vector i of the batch is in the AMX layout: every
// vector of a whole group of eight, and of the last group if it has at
// least amxMinTokens or the batch is of Q4_0 (all its vectors take the
// tiles).
func (b *Batch) amxVec(i int) bool {
	return b.useAMX && (i < b.n&^7 || b.n%8 >= amxMinTokens || b.t == Q4_0)
}

// xaStride is the size in bytes of one group of eight vectors in the AMX
// layout.
func (b *Batch) xaStride() int { return b.nb / 2 * 576 }

// setAMX writes blocks [k0, k1) of vector i (already in q and d) in the
// AMX layout: per group of eight vectors and pair of blocks, 576 bytes:
// each block's quants as the B tile of TDPBSSD (256 bytes: row m holds
// quants 4m..4m+3 of vector t at 4t), then the 16 float32 scales (block
// 2p of vector t at t, block 2p+1 at 8+t). Each vector's bytes are its
// own, so goroutines may write disjoint vectors or blocks.
func (b *Batch) setAMX(i, k0, k1 int) {
	nb, t := b.nb, i%8
	xa := b.xa[i/8*b.xaStride():]
	for k := k0; k < k1; k++ {
		g := xa[k/2*576:][:576]
		tile := g[256*(k%2):][:256]
		q := b.q[(i*nb+k)*32:][:32]
		for m := range 8 {
			copy(tile[32*m+4*t:32*m+4*t+4], q[4*m:4*m+4])
		}
		binary.LittleEndian.PutUint32(g[512+4*(8*(k%2)+t):], math.Float32bits(b.d[i*nb+k]))
	}
}

// quantizeBatchImpl is the activation quantiser Batch uses (an assembly
// tier where the CPU has one): quantizeBatchGeneric's results, bit for bit.
var quantizeBatchImpl = quantizeBatchGeneric

// quantizeBatchGeneric quantises x (whole blocks of 32) as Vec.Set does
// (quantizeBlockQ8_0) into the quants q (32 per block) and the scales d
// (the fp16 scale as float32), with what the kernels derive from them:
// bias and bias4 (-128 and -8 x the sum of each group of four quants, 8
// per block), xc (8 x d x the sum of the block's quants) and, when q34 is
// not nil, the blocks in Vec's 34-byte layout.
func quantizeBatchGeneric(q []byte, d []float32, bias, bias4 []int32, xc []float32, q34 []byte, x []float32) {
	var blk [34]byte
	for k := range len(x) / 32 {
		quantizeBlockQ8_0(blk[:], x[32*k:32*k+32])
		if q34 != nil {
			copy(q34[34*k:], blk[:])
		}
		d[k] = FP16ToFP32(binary.LittleEndian.Uint16(blk[:]))
		copy(q[32*k:32*k+32], blk[2:])
		var sum int32
		for g := range 8 {
			var s int32
			for _, v := range blk[2+4*g : 6+4*g] {
				s += int32(int8(v))
			}
			bias[8*k+g] = -128 * s
			bias4[8*k+g] = -8 * s
			sum += s
		}
		xc[k] = 8 * d[k] * float32(sum)
	}
}

// Type returns the matrix type the batch was prepared for.
func (b *Batch) Type() Type { return b.t }

// Len returns the number of vectors set.
func (b *Batch) Len() int { return b.n }

// MatMul computes the product of rows [lo, hi) of m with every vector of
// the batch b, prepared for m.Type: outs[t][r] = dot(row r of m, vector t)
// for r in [lo, hi) and t < b.Len(). Like MatVec it only reads m and b, so
// goroutines may share them and compute disjoint row ranges of the same
// outs. It does not allocate.
//
//	W (Rows, Cols) @ X^T (Cols, n) -> outs (n, Rows), columns [lo, hi)
func MatMul(outs [][]float32, m Matrix, lo, hi int, b *Batch) {
	if lo < 0 || hi > m.Rows || lo > hi {
		panic(fmt.Sprintf("quant: MatMul rows [%d,%d) out of range [0,%d)", lo, hi, m.Rows))
	}
	if b.cols != m.Cols || !b.t.SharesActivations(m.Type) || b.n == 0 {
		panic(fmt.Sprintf("quant: MatMul on a %dx%d %s matrix with a batch of %d prepared for %d columns of %s",
			m.Rows, m.Cols, m.Type, b.n, b.cols, b.t))
	}
	if len(outs) < b.n {
		panic(fmt.Sprintf("quant: MatMul has %d outputs for %d vectors", len(outs), b.n))
	}
	for _, o := range outs[:b.n] {
		if len(o) < hi {
			panic(fmt.Sprintf("quant: MatMul output of %d elements, want %d", len(o), hi))
		}
	}
	if lo == hi {
		return
	}
	rb := m.RowBytes()
	if types[m.Type].act == actQ8_K {
		vb, t0 := b.nb*sizeQ8_K, 0
		if k := gemmTiers[gemmSel].ktiles; k != nil && b.n > 1 {
			t0 = k(outs, lo, m.Type, m.Data[lo*rb:hi*rb], rb, hi-lo, b)
		}
		for t := t0; t < b.n; t++ {
			kernels.rows[m.Type](outs[t][lo:hi], m.Data[lo*rb:hi*rb], rb, activations{q: b.q8k[t*vb : (t+1)*vb]})
		}
		return
	}
	gemmImpl(outs, lo, m.Type, m.Data[lo*rb:hi*rb], rb, hi-lo, b)
}

// gemmKernel computes outs[t][off+r] for r < rows and t < b.n from rows
// consecutive weight rows of rb bytes at w.
type gemmKernel func(outs [][]float32, off int, t Type, w []byte, rb, rows int, b *Batch)

// gemmTiers lists every tier this build has (the assembly tiers are
// appended at init, best last), usable on this CPU or not; gemmImpl is the
// one MatMul uses, gemmTiers[gemmSel].
var (
	gemmTiers = []gemmTier{
		{name: "ref", fn: gemmRef, attn: attnKernels{attnScoresRef, attnValuesRef}, quant: quantizeBatchGeneric, usable: true},
		{name: "generic", fn: gemmGeneric, attn: attnKernels{attnScoresGeneric, attnValuesGeneric}, quant: quantizeBatchGeneric, usable: true},
	}
	gemmSel             = 1
	gemmImpl gemmKernel = gemmGeneric
)

// gemmTier is one tier of the batched kernels: MatMul's, the attention
// kernels' and the activation quantiser of Batch.
type gemmTier struct {
	name  string
	fn    gemmKernel
	attn  attnKernels
	quant func(q []byte, d []float32, bias, bias4 []int32, xc []float32, q34 []byte, x []float32)
	// ktiles, if set, multiplies K-quant rows with the batch's first
	// vectors several at a time and returns how many it did; MatMul does
	// the rest one vector at a time with the rows kernel.
	ktiles func(outs [][]float32, off int, t Type, w []byte, rb, rows int, b *Batch) int
	packed bool   // fn multiplies batches prepared in the packed layout (Batch.xp)
	usable bool   // this CPU has what the tier needs
	needs  string // what the tier needs, for messages
}

// addGEMMTier registers an assembly tier and selects it if this CPU can
// run it (the tier files call it at init, in order of preference).
//
//lint:ignore U1000 called by the tier files, which a noasm build leaves out
func addGEMMTier(t gemmTier) {
	gemmTiers = append(gemmTiers, t)
	if t.usable {
		gemmSel = len(gemmTiers) - 1
		gemmImpl, attnImpl, quantizeBatchImpl, packedGEMM = t.fn, t.attn, t.quant, t.packed
	}
}

// GEMMTiers lists the names of the MatMul tiers this build can run on this
// CPU ("ref", "generic", "avx2", "avx512", ...). Tests run each with
// UseGEMMTier.
func GEMMTiers() []string {
	var names []string
	for _, t := range gemmTiers {
		if t.usable {
			names = append(names, t.name)
		}
	}
	return names
}

// MissingGEMMTiers lists the tiers this build has but this CPU cannot
// run, each with what it needs ("avx512: AVX-512 F/BW/VL and VNNI"), so
// that tests can say what they skipped.
func MissingGEMMTiers() []string {
	var out []string
	for _, t := range gemmTiers {
		if !t.usable {
			out = append(out, t.name+": "+t.needs)
		}
	}
	return out
}

// BatchRows is how many vectors the selected tier multiplies best in one
// MatMul with matrices of type t: the rows of a prompt chunk. 128 for the
// AVX2 tier's packed product (converting the weights to float32 costs
// about 4% of its time at 128 vectors and 15% at 32; the integer panel
// kernels' expansion of the weights about 3%) and the int8 tiles;
// 64 for the float types on the other tiers (AVX-512's F16 tile, pp512 of
// the 1.1B shape on 2 threads: 98.9 tokens/s at 32 rows, 102.9 at 64, 93.9
// at 128).
func BatchRows(t Type) int {
	if !gemmTiers[gemmSel].packed && (t == F32 || t == F16 || t == BF16) {
		return 64
	}
	return 128
}

// GEMMTier returns the name of the tier MatMul uses.
func GEMMTier() string { return gemmTiers[gemmSel].name }

// UseGEMMTier makes MatMul, the attention kernels and Batch's quantiser
// use the named tier (one of GEMMTiers) and returns
// a function that restores the previous one. It is not safe to call
// concurrently with MatMul.
func UseGEMMTier(name string) (restore func()) {
	prev := gemmSel
	for i, t := range gemmTiers {
		if t.name == name && t.usable {
			gemmSel, gemmImpl, attnImpl, quantizeBatchImpl, packedGEMM = i, t.fn, t.attn, t.quant, t.packed
			return func() {
				p := &gemmTiers[prev]
				gemmSel, gemmImpl, attnImpl, quantizeBatchImpl, packedGEMM = prev, p.fn, p.attn, p.quant, p.packed
			}
		}
	}
	panic(fmt.Sprintf("quant: no MatMul tier %q here (have %v)", name, GEMMTiers()))
}

// gemmRef is the definition: every output is a dot product of one weight
// row with one vector, in the order of the types' reference dot kernels.
func gemmRef(outs [][]float32, off int, t Type, w []byte, rb, rows int, b *Batch) {
	for tok := 0; tok < b.n; tok++ {
		for r := range rows {
			row := w[r*rb : (r+1)*rb]
			var s float32
			switch t {
			case Q8_0, Q4_0:
				bb := t.BlockBytes()
				for k := 0; k < b.nb; k++ {
					wb := row[k*bb:]
					xq := b.q[(tok*b.nb+k)*32:]
					var sum int32
					for i := range 32 {
						var wi int32
						if t == Q8_0 {
							wi = int32(int8(wb[2+i]))
						} else if i < 16 {
							wi = int32(wb[2+i]&15) - 8
						} else {
							wi = int32(wb[2+i-16]>>4) - 8
						}
						sum += wi * int32(int8(xq[i]))
					}
					s += float32(sum) * (FP16ToFP32(binary.LittleEndian.Uint16(wb)) * b.d[tok*b.nb+k])
				}
			default:
				x := b.x[tok*b.cols:]
				for i := range b.cols {
					s += floatAt(t, row, i) * x[i]
				}
			}
			outs[tok][off+r] = s
		}
	}
}

// floatAt decodes element i of a row of F32, F16 or BF16 values.
func floatAt(t Type, row []byte, i int) float32 {
	switch t {
	case F16:
		return FP16ToFP32(binary.LittleEndian.Uint16(row[2*i:]))
	case BF16:
		return BF16ToFP32(binary.LittleEndian.Uint16(row[2*i:]))
	}
	return math.Float32frombits(binary.LittleEndian.Uint32(row[4*i:]))
}

// gemmGeneric is the portable tier. For each row and each group of up to
// gemmTokenPad vectors it decodes a weight block once (to int8 or float32,
// on the stack) and multiplies it with every vector of the group, so the
// decoding is shared and nothing is allocated.
func gemmGeneric(outs [][]float32, off int, t Type, w []byte, rb, rows int, b *Batch) {
	var acc [gemmTokenPad]float32
	for t0 := 0; t0 < b.n; t0 += gemmTokenPad {
		nt := min(gemmTokenPad, b.n-t0)
		for r := range rows {
			row := w[r*rb : (r+1)*rb]
			clear(acc[:])
			switch t {
			case Q8_0, Q4_0:
				gemmBlocksGeneric(&acc, t, row, b, t0, nt)
			default:
				var wf [64]float32
				for c0 := 0; c0 < b.cols; c0 += len(wf) {
					nc := min(len(wf), b.cols-c0)
					for i := range nc {
						wf[i] = floatAt(t, row, c0+i)
					}
					for j := range nt {
						x := b.x[(t0+j)*b.cols+c0:][:nc]
						var s0, s1 float32
						i := 0
						for ; i+1 < nc; i += 2 {
							s0 += wf[i] * x[i]
							s1 += wf[i+1] * x[i+1]
						}
						if i < nc {
							s0 += wf[i] * x[i]
						}
						acc[j] += s0 + s1
					}
				}
			}
			for j := range nt {
				outs[t0+j][off+r] = acc[j]
			}
		}
	}
}

// gemmBlocksGeneric adds the dot products of one Q8_0 or Q4_0 weight row
// with vectors t0..t0+nt-1 of b to acc[0..nt).
func gemmBlocksGeneric(acc *[gemmTokenPad]float32, t Type, row []byte, b *Batch, t0, nt int) {
	gemmBlocksGenericFrom(acc, t, row, b, t0, nt, 0)
}

// gemmBlocksGenericFrom is gemmBlocksGeneric over blocks k0.. only.
func gemmBlocksGenericFrom(acc *[gemmTokenPad]float32, t Type, row []byte, b *Batch, t0, nt, k0 int) {
	bb := t.BlockBytes()
	var wq [32]int32
	for k := k0; k < b.nb; k++ {
		wb := row[k*bb : (k+1)*bb]
		wd := FP16ToFP32(binary.LittleEndian.Uint16(wb))
		if t == Q8_0 {
			for i := range 32 {
				wq[i] = int32(int8(wb[2+i]))
			}
		} else {
			for j := range 16 {
				wq[j] = int32(wb[2+j]&15) - 8
				wq[j+16] = int32(wb[2+j]>>4) - 8
			}
		}
		for j := range nt {
			x := b.q[((t0+j)*b.nb+k)*32:][:32]
			var s0, s1 int32
			for i := 0; i < 32; i += 2 {
				s0 += wq[i] * int32(int8(x[i]))
				s1 += wq[i+1] * int32(int8(x[i+1]))
			}
			acc[j] += float32(s0+s1) * (wd * b.d[(t0+j)*b.nb+k])
		}
	}
}

// quantizeBatchAsm wraps an assembly quantiser (AVX2, AVX-512, NEON) in
// quantizeBatchGeneric's signature, checking the bounds the assembly trusts.
//
//lint:ignore U1000 used by the tier files, which a noasm build leaves out
func quantizeBatchAsm(kern func(q *byte, d *float32, bias, bias4 *int32, xc *float32, q34 *byte, x *float32, n int)) func(q []byte, d []float32, bias, bias4 []int32, xc []float32, q34 []byte, x []float32) {
	return func(q []byte, d []float32, bias, bias4 []int32, xc []float32, q34 []byte, x []float32) {
		n := len(x) / 32
		if n == 0 {
			return
		}
		_, _, _, _, _ = q[32*n-1], d[n-1], bias[8*n-1], bias4[8*n-1], xc[n-1]
		var p34 *byte
		if q34 != nil {
			_ = q34[34*n-1]
			p34 = &q34[0]
		}
		kern(&q[0], &d[0], &bias[0], &bias4[0], &xc[0], p34, &x[0], n)
	}
}

// AMXEnabled reports whether MatMul multiplies batches of Q8_0 and Q4_0
// vectors with AMX tiles on this CPU (Linux, AMX-INT8, the avx512 tier selected).
func AMXEnabled() bool { return amxLayout && GEMMTier() == "avx512" }
