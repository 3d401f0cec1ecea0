package simd

import (
	"math"
	"runtime"

	"github.com/viterin/vek/vek32"
	"golang.org/x/sys/cpu"
)

// The helpers come in tiers (see STYLE.md): *Generic is the portable tier
// (vek, which has AVX2 code on amd64 and plain Go elsewhere, or a plain Go
// loop), and *NEON (simd_arm64.s) is selected at init on arm64. Each
// exported function checks its arguments and dispatches through the
// variables below; DisableAsm forces the generic tier.
var (
	dotImpl      = dotGeneric
	sumImpl      = vek32.Sum
	maxImpl      = vek32.Max
	addImpl      = vek32.Add_Inplace
	scaleImpl    = vek32.MulNumber_Inplace
	softmaxImpl  = softmaxGeneric
	scaleMulImpl = scaleMulGeneric
	swiGLUImpl   = swiGLUGeneric
	argmaxImpl   = argmaxGeneric

	asmEnabled bool
)

// DisableAsm switches every helper to its generic tier, so that tests can run
// both tiers on one machine. It returns a function that restores the
// previous selection. It is not safe to call concurrently with the helpers.
func DisableAsm() (restore func()) {
	dot, sum, mx, add, scale, sm, smul, sw, am, on := dotImpl, sumImpl, maxImpl, addImpl, scaleImpl, softmaxImpl, scaleMulImpl, swiGLUImpl, argmaxImpl, asmEnabled
	dotImpl, sumImpl, maxImpl, addImpl, scaleImpl = dotGeneric, vek32.Sum, vek32.Max, vek32.Add_Inplace, vek32.MulNumber_Inplace
	softmaxImpl, scaleMulImpl, swiGLUImpl, argmaxImpl, asmEnabled = softmaxGeneric, scaleMulGeneric, swiGLUGeneric, argmaxGeneric, false
	return func() {
		dotImpl, sumImpl, maxImpl, addImpl, scaleImpl = dot, sum, mx, add, scale
		softmaxImpl, scaleMulImpl, swiGLUImpl, argmaxImpl, asmEnabled = sm, smul, sw, am, on
	}
}

// AsmEnabled reports whether the assembly tier of this package is selected
// (on arm64 without -tags noasm, unless DisableAsm). On amd64 vek brings its
// own AVX2 code, which this does not report.
func AsmEnabled() bool { return asmEnabled }

func dotGeneric(a, b []float32) float32 { return vek32.Dot(a, b) }

// expMin is the smallest input the softmax passes to exp.
const expMin = -87

func softmaxGeneric(x []float32) {
	m := vek32.Max(x)
	vek32.AddNumber_Inplace(x, -m)
	// vek32.Exp returns NaN or huge negative values below about -88 (it
	// does not handle underflow). exp(-87) is 1.6e-38: clamping there
	// changes no probability by more than that.
	vek32.MaximumNumber_Inplace(x, expMin)
	vek32.Exp_Inplace(x)
	s := vek32.Sum(x)
	vek32.MulNumber_Inplace(x, 1/s)
}

// scaleMulGeneric is the second half of RMSNorm: o[i] = w[i] * (inv * x[i]).
func scaleMulGeneric(o, x, w []float32, inv float32) {
	x, w = x[:len(o)], w[:len(o)]
	for i := range o {
		o[i] = w[i] * (inv * x[i])
	}
}

// vekAVX2 is vek's own condition for running its AVX2 code.
var vekAVX2 = runtime.GOARCH == "amd64" && runtime.GOOS != "darwin" && cpu.X86.HasAVX2 && cpu.X86.HasFMA

// swiGLUGeneric computes v'*hb2[i] / (1 + exp(-v')), v' = max(v, -88), in
// float32 with vek, 256 values at a time, where vek has its AVX2 exp
// (within a few ulps; the float64 loop took 5% of a prompt's time), and
// the sigmoid in float64 rounded to float32 elsewhere and for the last
// values (vek's portable exp, which it also uses for lengths not a
// multiple of eight, is 1e-6 off). vek's exp is defined on [-87, 88]
// only: below v = -88, silu(v) is within 5.3e-37 of 0 either way.
func swiGLUGeneric(hb, hb2 []float32) {
	hb2 = hb2[:len(hb)]
	n := 0 // the values done with vek: whole groups of eight, where its exp is AVX2's
	if vekAVX2 {
		n = len(hb) &^ 7
	}
	for i := n; i < len(hb); i++ {
		v := hb[i]
		hb[i] = v * float32(1/(1+math.Exp(float64(-v)))) * hb2[i]
	}
	var buf [256]float32
	for i := 0; i < n; i += len(buf) {
		h := hb[i:min(i+len(buf), n)]
		t := buf[:len(h)]
		copy(t, h)
		vek32.MaximumNumber_Inplace(t, -88) // v' = max(v, -88)
		vek32.Mul_Into(h, t, hb2[i:i+len(h)])
		vek32.MulNumber_Inplace(t, -1)
		vek32.MaximumNumber_Inplace(t, -87)
		vek32.Exp_Inplace(t)
		vek32.AddNumber_Inplace(t, 1)
		vek32.Div_Inplace(h, t)
	}
}
