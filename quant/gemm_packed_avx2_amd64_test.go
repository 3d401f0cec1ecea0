//go:build amd64 && !noasm

package quant

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// TestKPanelLayout checks that kPanelSB has the size and field offsets
// that the panel kernels (gemm_packed_avx2_amd64.s) use.
func TestKPanelLayout(t *testing.T) {
	typ := reflect.TypeFor[kPanelSB]()
	if typ.Size() != 2880 {
		t.Errorf("kPanelSB is %d bytes, the kernels step 2880", typ.Size())
	}
	for name, want := range map[string]uintptr{"levels": 0, "scales": 2048, "mins": 2560, "d": 2816, "dmin": 2848} {
		f, _ := typ.FieldByName(name)
		if f.Offset != want {
			t.Errorf("kPanelSB.%s at %d, the kernels read it at %d", name, f.Offset, want)
		}
	}
}

// kPanelScales2Ref writes the factors of super-blocks k0.. of the 8 Q2_K rows
// to the panel super-blocks dst, as cvtQ2_KI8 does.
func kPanelScales2Ref(dst []kPanelSB, rows *[8][]byte, k0 int) {
	for k := range dst {
		p := &dst[k]
		for r, row := range rows {
			sb := row[(k0+k)*sizeQ2_K:][:sizeQ2_K]
			for i := range 16 {
				p.scales[i][r] = pair16(int32(sb[i] & 15))
			}
			for q := range 8 {
				p.mins[q][r] = halves16(int32(sb[2*q]>>4), int32(sb[2*q+1]>>4))
			}
			p.d[r], p.dmin[r] = fp16At(sb[80:]), fp16At(sb[82:])
		}
	}
}

// TestKPanelConverters checks the panel super-blocks that the converters
// write for random rows of each K type against their definition: every
// level at its place (as decodeK gives it, plus the type's offset), and
// for the types whose converter writes the factors too, those against
// the Go writers.
func TestKPanelConverters(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 27))
	offset := map[Type]int{Q3_K: 4, Q6_K: 32}
	for _, typ := range kTypes {
		const nb = 11
		size := kSize(typ)
		var rs [8][]byte
		var rp [8]*byte
		for r := range rs {
			rs[r] = make([]byte, nb*size)
			for i := range rs[r] {
				rs[r][i] = byte(rng.Uint32())
			}
			if typ == Q2_K {
				for sb := range nb {
					// finite d and dmin (exponent < 31): NaNs do not compare
					rs[r][sb*size+81] &^= 0x40
					rs[r][sb*size+83] &^= 0x40
				}
			}
			rp[r] = &rs[r][0]
		}
		for _, k0 := range []int{0, 3} {
			n := min(pkSupers, nb-k0)
			var got [pkSupers]kPanelSB
			kPanelCvt(typ, got[:], &rp, &rs, k0, n)
			var k kBlock
			for sb := range n {
				for r := range 8 {
					decodeK(typ, rs[r][(k0+sb)*size:][:size], &k)
					for e := range superLen {
						if g, w := int(got[sb].levels[e/4][r][e%4]), int(k.q[e])+offset[typ]; g != w {
							t.Fatalf("%s super-block %d row %d: level %d = %d, want %d", typ, k0+sb, r, e, g, w)
						}
					}
				}
			}
			if typ == Q2_K {
				var want [pkSupers]kPanelSB
				kPanelScales2Ref(want[:n], &rs, k0)
				for sb := range n {
					g, w := &got[sb], &want[sb]
					if g.scales != w.scales || g.mins != w.mins || g.d != w.d || g.dmin != w.dmin {
						t.Fatalf("%s super-block %d: scales %x, mins %x, d %v, dmin %v; want %x, %x, %v, %v",
							typ, k0+sb, g.scales[0], g.mins[0], g.d, g.dmin, w.scales[0], w.mins[0], w.d, w.dmin)
					}
				}
			}
		}
	}
}

// TestKPanelX2 checks that the two-vector panel kernels give, bit for bit,
// what the six-vector ones give for the same vectors (the driver sends a
// batch's last 1..4 vectors to them), storing and accumulating, for
// panels of 1 and 3 super-blocks of random rows of each K type and
// vectors at each position of the group of 6.
func TestKPanelX2(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 41))
	for _, typ := range kTypes {
		const nb = 3
		cols := nb * superLen
		var rs [8][]byte
		var rp [8]*byte
		for r := range rs {
			rs[r] = encode(t, typ, randFloats(rng, cols, "mixed"))
			rp[r] = &rs[r][0]
		}
		xs := make([][]float32, 6)
		for j := range xs {
			xs[j] = randFloats(rng, cols, "mixed")
		}
		b := NewBatch(6, cols)
		b.Set(xs, typ)
		var wp [pkSupers]kPanelSB
		for _, n := range []int{1, nb} {
			kPanelCvt(typ, wp[:], &rp, &rs, 0, n)
			w := &wp[0].levels[0][0][0]
			for _, acc := range []bool{false, true} {
				var want, got [6][8]float32
				for j := range want {
					for r := range want[j] {
						want[j][r] = float32(rng.NormFloat64())
						got[j][r] = want[j][r]
					}
				}
				var po [6]*float32
				for j := range po {
					po[j] = &want[j][0]
				}
				kPanelGemm(typ, w, &b.q8k[0], nb*sizeQ8_K, n, &po, acc)
				for j := 0; j < 6; j += 2 {
					kPanelGemm2(typ, w, &b.q8k[j*nb*sizeQ8_K], nb*sizeQ8_K, n, &[2]*float32{&got[j][0], &got[j+1][0]}, acc)
				}
				for j := range want {
					for r := range want[j] {
						if math.Float32bits(got[j][r]) != math.Float32bits(want[j][r]) {
							t.Fatalf("%s, %d super-blocks, acc %v: vector %d row %d: x2 kernel %g, x6 kernel %g",
								typ, n, acc, j, r, got[j][r], want[j][r])
						}
					}
				}
			}
		}
	}
}
