package quant

// A rows kernel computes out[i] = dot(w[i*stride:], a) for every i of out:
// len(out) consecutive rows of one matrix (stride bytes apart) with one
// activation vector, in the format types[t].act names. MatVec calls one per
// row range.
type rowsFunc func(out []float32, w []byte, stride int, a activations)

// A dot kernel is a rows kernel for one row that returns its result, so
// that a single-row product through the table allocates nothing (a result
// slice passed to a function value would escape to the heap).
type dotFunc func(w []byte, a activations) float32

// activations is a vector as a rows kernel reads it: f for the float types,
// q (Q8_0 or Q8_K blocks) for the block types. Passed by value, so calling a
// kernel through the table allocates nothing.
type activations struct {
	f []float32
	q []byte
}

// tier names one implementation level of the kernels (STYLE.md habit 9).
type tier uint8

const (
	tierRef     tier = iota // scalar reference loops, the definition
	tierGeneric             // portable Go
	tierAVX2                // amd64: AVX2, FMA, F16C
	tierAVX512              // amd64: AVX-512 (F, BW, VL) and VNNI
	tierNEON                // arm64: NEON (ASIMD)
	numTiers
)

var tierNames = [numTiers]string{"ref", "generic", "avx2", "avx512", "neon"}

func (t tier) String() string { return tierNames[t] }

// tierRows and tierDots fill the two portable tiers of a table row.
func tierRows(ref, generic rowsFunc) (r [numTiers]rowsFunc) {
	r[tierRef], r[tierGeneric] = ref, generic
	return r
}

func tierDots(ref, generic dotFunc) (d [numTiers]dotFunc) {
	d[tierRef], d[tierGeneric] = ref, generic
	return d
}

// tierUsable reports which tiers this CPU and build can run; the tier files
// set their entry from CPU feature flags (registerTier).
var tierUsable = [numTiers]bool{tierRef: true, tierGeneric: true}

// kernelTable is the active kernels of each type and the tier they come
// from, and the active quantiser of Q8_K activations.
type kernelTable struct {
	rows      [numTypes]rowsFunc
	dot       [numTypes]dotFunc // nil where the tier has no dot kernel: dot1 then uses rows
	tier      [numTypes]tier
	quantQ8_K func(dst []byte, src []float32)
}

// tierKernels is what an assembly tier registers: rows kernels, optionally
// dot kernels for the same types, and optionally a Q8_K quantiser.
type tierKernels struct {
	rows      map[Type]rowsFunc
	dot       map[Type]dotFunc
	quantQ8_K func(dst []byte, src []float32)
}

// quantQ8_KTiers holds the Q8_K activation quantiser of each tier that has
// one; every one gives the bytes quantizeQ8_K gives for finite input.
var quantQ8_KTiers = [numTiers]func(dst []byte, src []float32){tierGeneric: quantizeQ8_K}

// kernels holds, for each type, the kernel of the highest usable tier that
// has one (never tierRef). DisableAsm swaps the whole table.
var kernels = selectKernels(numTiers - 1)

// registerTier installs the kernels of an assembly tier (called from the
// tier files' init functions; the order of those calls does not matter) and
// selects again. usable says whether this CPU can run the tier; its kernels
// are installed either way, so that tests can list what the build has.
//
//lint:ignore U1000 called by the tier files, which a noasm build leaves out
func registerTier(t tier, usable bool, k tierKernels) {
	for typ, f := range k.rows {
		types[typ].rows[t] = f
	}
	for typ, f := range k.dot {
		types[typ].dot[t] = f
	}
	if k.quantQ8_K != nil {
		quantQ8_KTiers[t] = k.quantQ8_K
	}
	tierUsable[t] = tierUsable[t] || usable
	kernels = selectKernels(numTiers - 1)
}

// selectKernels picks, for each type, the kernel of the highest usable tier
// up to max that has one, and likewise the Q8_K quantiser.
func selectKernels(max tier) (k kernelTable) {
	for typ := range types {
		for t := max; t >= tierGeneric; t-- {
			if f := types[typ].rows[t]; f != nil && tierUsable[t] {
				k.rows[typ], k.dot[typ], k.tier[typ] = f, types[typ].dot[t], t
				break
			}
		}
	}
	for t := max; t >= tierGeneric; t-- {
		if f := quantQ8_KTiers[t]; f != nil && tierUsable[t] {
			k.quantQ8_K = f
			break
		}
	}
	return k
}

// DisableAsm switches every kernel to its portable Go tier, so that tests can
// run both paths on one machine. It returns a function that restores the
// previous selection. It is not safe to call concurrently with the kernels.
func DisableAsm() (restore func()) {
	old := kernels
	kernels = selectKernels(tierGeneric)
	return func() { kernels = old }
}

// AsmEnabled reports whether any assembly kernel is selected (false with
// -tags noasm, on amd64 CPUs without AVX2/FMA/F16C, or after DisableAsm).
func AsmEnabled() bool {
	for _, t := range kernels.tier {
		if t > tierGeneric {
			return true
		}
	}
	return false
}

// KernelTier names the implementation MatVec uses for matrices of type t
// ("generic", "avx2", ...), for benchmark labels and diagnostics.
func KernelTier(t Type) string { return kernels.tier[t].String() }

// rowsFloat makes a rows kernel of a float dot kernel whose rows are
// len(x)*elemBytes bytes.
func rowsFloat(dot func(w []byte, x []float32) float32, elemBytes int) rowsFunc {
	return func(out []float32, w []byte, stride int, a activations) {
		n := len(a.f) * elemBytes
		for i := range out {
			out[i] = dot(w[i*stride:i*stride+n], a.f)
		}
	}
}

// rowsBlock makes a rows kernel of a block dot kernel: each row holds one
// wBytes block for every xBytes block of activations.
func rowsBlock(dot func(w, xq []byte) float32, wBytes, xBytes int) rowsFunc {
	return func(out []float32, w []byte, stride int, a activations) {
		n := len(a.q) / xBytes * wBytes
		for i := range out {
			out[i] = dot(w[i*stride:i*stride+n], a.q)
		}
	}
}

// rowsF32Generic is the Go tier of F32: rows aligned for float32 use
// simd.Dot in place.
var rowsF32Generic = rowsFloat(dotF32Generic, 4)

// dot1 runs the active kernel of typ on one row.
func dot1(typ Type, w []byte, a activations) float32 {
	if f := kernels.dot[typ]; f != nil {
		return f(w, a)
	}
	var s [1]float32
	kernels.rows[typ](s[:], w, len(w), a)
	return s[0]
}

// floatDot and blockDot adapt a portable one-row kernel to the table.
func floatDot(dot func(w []byte, x []float32) float32) dotFunc {
	return func(w []byte, a activations) float32 { return dot(w, a.f) }
}

func blockDot(dot func(w, xq []byte) float32) dotFunc {
	return func(w []byte, a activations) float32 { return dot(w, a.q) }
}

// checkRows panics unless len(out) rows of rowBytes bytes, stride apart,
// fit in w (the assembly trusts these bounds).
//
//lint:ignore U1000 used by the tier files, which a noasm build leaves out
func checkRows(out []float32, w []byte, stride, rowBytes int) {
	if len(out) == 0 {
		return
	}
	if stride < rowBytes || (len(out)-1)*stride+rowBytes > len(w) {
		panic("quant: rows kernel out of bounds")
	}
}

// rowsKAsm wraps a K-quant assembly kernel (AVX2, NEON): it checks the
// bounds once (the assembly trusts them) and hands over whole super-blocks.
//
//lint:ignore U1000 used by the tier files, which a noasm build leaves out
func rowsKAsm(kernel func(w, x *byte, n, rows, stride int, out *float32), wBytes int) rowsFunc {
	return func(out []float32, w []byte, stride int, a activations) {
		nb := len(a.q) / sizeQ8_K
		checkRows(out, w, stride, wBytes*nb)
		if len(out) == 0 {
			return
		}
		if nb == 0 {
			clear(out)
			return
		}
		kernel(&w[0], &a.q[0], nb, len(out), stride, &out[0])
	}
}

// quantizeQ8_KAsm wraps an assembly Q8_K activation quantiser (AVX2, NEON)
// that encodes n > 0 super-blocks.
//
//lint:ignore U1000 used by the tier files, which a noasm build leaves out
func quantizeQ8_KAsm(kernel func(dst *byte, src *float32, n int)) func(dst []byte, src []float32) {
	return func(dst []byte, src []float32) {
		n := len(src) / superLen
		if n == 0 {
			return
		}
		if len(dst) < n*sizeQ8_K {
			panic("quant: Q8_K destination too short")
		}
		kernel(&dst[0], &src[0], n)
	}
}
