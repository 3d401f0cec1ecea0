package simd

import (
	"math"

	"github.com/viterin/vek/vek32"
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

	asmEnabled bool
)

// DisableAsm switches every helper to its generic tier, so that tests can run
// both tiers on one machine. It returns a function that restores the
// previous selection. It is not safe to call concurrently with the helpers.
func DisableAsm() (restore func()) {
	dot, sum, mx, add, scale, sm, smul, sw, on := dotImpl, sumImpl, maxImpl, addImpl, scaleImpl, softmaxImpl, scaleMulImpl, swiGLUImpl, asmEnabled
	dotImpl, sumImpl, maxImpl, addImpl, scaleImpl = dotGeneric, vek32.Sum, vek32.Max, vek32.Add_Inplace, vek32.MulNumber_Inplace
	softmaxImpl, scaleMulImpl, swiGLUImpl, asmEnabled = softmaxGeneric, scaleMulGeneric, swiGLUGeneric, false
	return func() {
		dotImpl, sumImpl, maxImpl, addImpl, scaleImpl = dot, sum, mx, add, scale
		softmaxImpl, scaleMulImpl, swiGLUImpl, asmEnabled = sm, smul, sw, on
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

// swiGLUGeneric computes the sigmoid in float64 and rounds it to float32.
func swiGLUGeneric(hb, hb2 []float32) {
	hb2 = hb2[:len(hb)]
	for i, v := range hb {
		hb[i] = v * float32(1/(1+math.Exp(float64(-v)))) * hb2[i]
	}
}
