package quant

import (
	"encoding/binary"
	"math"
)

// The K-quant quantisers. Each super-block is encoded in three steps:
//
//  1. every sub-block gets the scale (and min) that minimise the weighted
//     squared error of its elements: a grid of candidate steps, each
//     followed by the least-squares scale (and min) for the levels that step
//     gives, keeping the best (fitAffine, fitSymmetric);
//  2. the sub-block scales (and mins) are themselves quantised to the
//     type's 4-, 6- or 8-bit integers under one fp16 factor d (dmin),
//     fitted the same way with each sub-block weighted by its elements'
//     total weight;
//  3. the elements are requantised against the scales as stored, so the
//     levels match what the decoder will multiply them by.
//
// The element weights say which errors matter most. Without activation
// statistics (llama.cpp's imatrix) we weight each element by |x| plus the
// super-block's RMS (as llama.cpp's reference Q4_K/Q5_K quantisers do):
// large weights matter more, but not to the point of sacrificing small
// ones. Q6_K, whose levels are fine enough that the RMS term would make
// the weights nearly uniform, uses |x| alone. Both were chosen by measuring
// (see kquant.md): against llama.cpp's reference quantisers (commit
// c392e50) on the same data (normal, Laplace, stories260K's weights) the
// RMS error is 8-12% lower for Q2_K, 3-4% lower for Q3_K, 2% lower for
// Q6_K and within 0.2% for Q4_K and Q5_K; and on stories260K padded to
// K-quant rows, perplexity with every matrix in one type is as good as or
// better than with llama.cpp's quantisers for every type.
//
// The quantisers do not allocate.

// kScratch is the per-super-block working memory of the quantisers.
type kScratch struct {
	weight [superLen]float32
	level  [superLen]int32
	aux    [32]int32
	scale  [16]float32
	min    [16]float32
	sw     [16]float32 // total element weight of each sub-block
	ls, lm [16]int32   // quantised scales and mins
}

// roundInt rounds to the nearest integer, halves away from zero.
func roundInt(v float32) int32 { return int32(math.Round(float64(v))) }

func clampInt(v, lo, hi int32) int32 { return max(lo, min(hi, v)) }

// fitAffine finds s >= 0 and m <= 0 minimising sum w*(s*L + m - x)^2 over
// integer levels L in [0, nmax], trying the steps (max-min)/(nmax+delta)
// for delta in rmin, rmin+rdelta, ..., rmin+steps*rdelta, and writes the
// levels to L. It returns s and -m (the min as the K-quants store it).
func fitAffine(x, w []float32, nmax int32, L, aux []int32, rmin, rdelta float32, steps int) (scale, negMin float32) {
	lo, hi := x[0], x[0]
	var sw, swx float32
	for i, v := range x {
		lo, hi = min(lo, v), max(hi, v)
		sw += w[i]
		swx += w[i] * v
	}
	lo = min(lo, 0)
	if hi <= lo {
		for i := range x {
			L[i] = 0
		}
		return 0, -lo
	}
	// The plain step, whose levels span [lo, hi].
	bestS, bestM := (hi-lo)/float32(nmax), lo
	affineLevels(x, nmax, 1/bestS, lo, L)
	bestErr := affineError(x, w, L, bestS, bestM)
	for k := 0; k <= steps; k++ {
		iscale := (float32(nmax) + rmin + rdelta*float32(k)) / (hi - lo)
		affineLevels(x, nmax, iscale, lo, aux)
		var sl, sll, sxl float32
		for i, v := range x {
			l := float32(aux[i])
			sl += w[i] * l
			sll += w[i] * l * l
			sxl += w[i] * l * v
		}
		det := sw*sll - sl*sl
		if det <= 0 {
			continue
		}
		s := (sw*sxl - swx*sl) / det
		m := (sll*swx - sl*sxl) / det
		if m > 0 { // the min must not be positive: fit the scale alone
			m = 0
			s = sxl / sll
		}
		if e := affineError(x, w, aux[:len(x)], s, m); e < bestErr {
			bestErr, bestS, bestM = e, s, m
			copy(L[:len(x)], aux[:len(x)])
		}
	}
	return bestS, -bestM
}

// affineLevels sets L[i] = clamp(round((x[i]-lo)*iscale), 0, nmax).
func affineLevels(x []float32, nmax int32, iscale, lo float32, L []int32) {
	for i, v := range x {
		L[i] = clampInt(roundInt((v-lo)*iscale), 0, nmax)
	}
}

func affineError(x, w []float32, L []int32, s, m float32) float32 {
	var e float32
	for i, v := range x {
		d := s*float32(L[i]) + m - v
		e += w[i] * d * d
	}
	return e
}

// fitSymmetric finds s minimising sum w*(s*L - x)^2 over integer levels L
// in [-nmax, nmax-1], trying steps around |x|max/nmax, then refining the
// levels for the best s until they settle. It writes the levels to L and
// returns s (negative when the element of largest magnitude is positive, so
// that it maps to the level -nmax, which has no positive counterpart).
func fitSymmetric(x, w []float32, nmax int32, L, aux []int32) float32 {
	var amax, m float32
	for _, v := range x {
		if a := abs32(v); a > amax {
			amax, m = a, v
		}
	}
	if amax == 0 {
		for i := range x {
			L[i] = 0
		}
		return 0
	}
	best := float32(-1) // the largest (sum w*x*L)^2 / sum w*L^2 so far
	var bestS float32
	try := func(iscale float32, levels []int32) {
		var sxl, sll float32
		for i, v := range x {
			l := clampInt(roundInt(iscale*v), -nmax, nmax-1)
			levels[i] = l
			sxl += w[i] * v * float32(l)
			sll += w[i] * float32(l) * float32(l)
		}
		if sll > 0 && sxl*sxl/sll > best {
			best, bestS = sxl*sxl/sll, sxl/sll
			copy(L[:len(x)], levels[:len(x)])
		}
	}
	for k := -9; k <= 9; k++ {
		try(-(float32(nmax)+0.1*float32(k))/m, aux)
	}
	if bestS == 0 {
		for i := range x {
			L[i] = 0
		}
		return 0
	}
	// Requantise against the fitted scale while that improves the fit.
	for range 4 {
		prev := best
		try(1/bestS, aux)
		if best <= prev {
			break
		}
	}
	return bestS
}

// fitScales quantises non-negative sub-block values v (scales or mins) to
// integers in [0, nmax] under one factor d, minimising sum sw*(d*L - v)^2,
// and returns d rounded to fp16 with the levels L for that rounded d.
func fitScales(v, sw []float32, nmax int32, L []int32) (d16 uint16) {
	var vmax float32
	for _, x := range v {
		vmax = max(vmax, x)
	}
	if vmax <= 0 {
		for i := range v {
			L[i] = 0
		}
		return 0
	}
	bestErr := float32(math.Inf(1))
	var bestD float32
	for k := -4; k <= 4; k++ {
		d := vmax / (float32(nmax) + 0.1*float32(k))
		// least-squares d for the levels this step gives
		var svl, sll float32
		for i, x := range v {
			l := float32(clampInt(roundInt(x/d), 0, nmax))
			svl += sw[i] * x * l
			sll += sw[i] * l * l
		}
		if sll == 0 {
			continue
		}
		d = svl / sll
		var e float32
		for i, x := range v {
			l := float32(clampInt(roundInt(x/d), 0, nmax))
			e += sw[i] * (d*l - x) * (d*l - x)
		}
		if e < bestErr {
			bestErr, bestD = e, d
		}
	}
	d16 = fp16AtLeast(bestD)
	d := FP16ToFP32(d16)
	for i, x := range v {
		if d > 0 {
			L[i] = clampInt(roundInt(x/d), 0, nmax)
		} else {
			L[i] = 0
		}
	}
	return d16
}

// fp16AtLeast returns the binary16 value nearest to d whose magnitude is at
// least |d| (the largest finite one if there is none): a super-block
// factor rounded down could push the largest sub-block's level past its
// range, and one rounded to zero would lose the whole super-block, where
// the smallest subnormal still represents values down to about 2^-24 times
// the level range.
func fp16AtLeast(d float32) uint16 {
	h := FP32ToFP16(d)
	if abs32(FP16ToFP32(h)) < abs32(d) {
		h++ // the next binary16 away from zero
	}
	if h&0x7fff >= 0x7c00 {
		h = h&0x8000 | 0x7bff
	}
	return h
}

// fitSignedScales quantises sub-block scales v (of either sign) to
// integers in [-nmax, nmax-1] under one factor d, and returns d rounded to
// fp16 with the levels for that rounded d.
func fitSignedScales(v, sw []float32, nmax int32, L, aux []int32) (d16 uint16) {
	d := fitSymmetric(v, sw, nmax, L, aux)
	d16 = fp16AtLeast(d)
	d = FP16ToFP32(d16)
	for i, x := range v {
		if d != 0 {
			L[i] = clampInt(roundInt(x/d), -nmax, nmax-1)
		} else {
			L[i] = 0
		}
	}
	return d16
}

// weightFloor keeps every element weight positive, so that a sub-block of
// values too small to square in float32 is still fitted (with equal weights).
const weightFloor = 0x1p-120

// rmsWeights sets w[i] = rms(x) + |x[i]| over a super-block.
func rmsWeights(w, x []float32) {
	var s2 float32
	for _, v := range x {
		s2 += v * v
	}
	rms := float32(math.Sqrt(float64(2 * s2 / float32(len(x)))))
	for i, v := range x {
		w[i] = rms + abs32(v) + weightFloor
	}
}

// absWeights sets w[i] = |x[i]|.
func absWeights(w, x []float32) {
	for i, v := range x {
		w[i] = abs32(v) + weightFloor
	}
}

// sumWeights sets sw[k] to the total weight of sub-block k of length sub.
func sumWeights(sw, w []float32, sub int) {
	for k := range len(w) / sub {
		var s float32
		for _, v := range w[k*sub : (k+1)*sub] {
			s += v
		}
		sw[k] = s
	}
}

// requantAffine sets the levels of sub-block elements x against the stored
// scale d*ls and min dmin*lm: L = clamp(round((x + dmin*lm)/(d*ls))).
func requantAffine(x []float32, d, dmin float32, ls, lm, nmax int32, L []int32) {
	dl, ml := d*float32(ls), dmin*float32(lm)
	for i, v := range x {
		if dl == 0 {
			L[i] = 0
			continue
		}
		L[i] = clampInt(roundInt((v+ml)/dl), 0, nmax)
	}
}

// requantSymmetric sets L = clamp(round(x/(d*ls)), -nmax, nmax-1) + nmax.
func requantSymmetric(x []float32, d float32, ls, nmax int32, L []int32) {
	dl := d * float32(ls)
	for i, v := range x {
		if dl == 0 {
			L[i] = nmax
			continue
		}
		L[i] = clampInt(roundInt(v/dl), -nmax, nmax-1) + nmax
	}
}

// fitAffineSubBlocks runs step 1 and 2 for the types with mins: sub-blocks
// of sub elements with levels [0, nmax], scales and mins quantised to
// [0, smax]. It leaves the integer scales and mins in sc.ls and sc.lm and
// returns the fp16 d and dmin.
func fitAffineSubBlocks(sc *kScratch, x []float32, sub int, nmax, smax int32, rmin, rdelta float32, steps int) (d16, dmin16 uint16) {
	n := len(x) / sub
	for k := range n {
		xs := x[k*sub : (k+1)*sub]
		sc.scale[k], sc.min[k] = fitAffine(xs, sc.weight[k*sub:], nmax, sc.level[k*sub:], sc.aux[:], rmin, rdelta, steps)
	}
	sumWeights(sc.sw[:n], sc.weight[:len(x)], sub)
	d16 = fitScales(sc.scale[:n], sc.sw[:n], smax, sc.ls[:n])
	dmin16 = fitScales(sc.min[:n], sc.sw[:n], smax, sc.lm[:n])
	d, dmin := FP16ToFP32(d16), FP16ToFP32(dmin16)
	for k := range n {
		requantAffine(x[k*sub:(k+1)*sub], d, dmin, sc.ls[k], sc.lm[k], nmax, sc.level[k*sub:])
	}
	return d16, dmin16
}

// fitSymmetricSubBlocks runs step 1 and 2 for Q3_K and Q6_K: sub-blocks of
// 16 with levels [-nmax, nmax-1], scales quantised to [-smax, smax-1]. The
// levels it leaves in sc.level are offset by nmax (unsigned).
func fitSymmetricSubBlocks(sc *kScratch, x []float32, nmax, smax int32) (d16 uint16) {
	const sub = 16
	for k := range superLen / sub {
		sc.scale[k] = fitSymmetric(x[k*sub:(k+1)*sub], sc.weight[k*sub:], nmax, sc.level[k*sub:], sc.aux[:])
	}
	sumWeights(sc.sw[:], sc.weight[:], sub)
	d16 = fitSignedScales(sc.scale[:], sc.sw[:], smax, sc.ls[:], sc.aux[:])
	d := FP16ToFP32(d16)
	for k := range superLen / sub {
		requantSymmetric(x[k*sub:(k+1)*sub], d, sc.ls[k], nmax, sc.level[k*sub:])
	}
	return d16
}

// quantizeK runs enc on every super-block of src with fresh scratch.
func quantizeK(dst []byte, src []float32, size int, enc func(sc *kScratch, b []byte, x []float32)) {
	var sc kScratch
	for b := 0; b < len(src)/superLen; b++ {
		enc(&sc, dst[size*b:][:size], src[superLen*b:][:superLen])
	}
}

func quantizeQ2_K(dst []byte, src []float32) {
	quantizeK(dst, src, sizeQ2_K, func(sc *kScratch, b []byte, x []float32) {
		rmsWeights(sc.weight[:], x)
		d, dmin := fitAffineSubBlocks(sc, x, 16, 3, 15, -0.5, 0.1, 15)
		for k := range 16 {
			b[k] = byte(sc.ls[k] | sc.lm[k]<<4)
		}
		clear(b[16:80])
		for e := range superLen {
			h, j, l := e/128, e%128/32, e%32
			b[16+32*h+l] |= byte(sc.level[e]) << (2 * j)
		}
		binary.LittleEndian.PutUint16(b[80:], d)
		binary.LittleEndian.PutUint16(b[82:], dmin)
	})
}

func quantizeQ3_K(dst []byte, src []float32) {
	quantizeK(dst, src, sizeQ3_K, func(sc *kScratch, b []byte, x []float32) {
		rmsWeights(sc.weight[:], x)
		d := fitSymmetricSubBlocks(sc, x, 4, 32)
		clear(b[:sizeQ3_K])
		for k := range 16 {
			s := byte(sc.ls[k] + 32)
			if k < 8 {
				b[96+k] |= s & 15
			} else {
				b[96+k-8] |= (s & 15) << 4
			}
			b[96+8+k%4] |= (s >> 4) << (2 * (k / 4))
		}
		for e := range superLen {
			h, j, l := e/128, e%128/32, e%32
			q := byte(sc.level[e])
			b[32+32*h+l] |= (q & 3) << (2 * j)
			b[l] |= (q >> 2) << (4*h + j)
		}
		binary.LittleEndian.PutUint16(b[108:], d)
	})
}

// packScalesK4 stores the 6-bit scales and mins of Q4_K/Q5_K in 12 bytes.
func packScalesK4(b []byte, ls, lm *[16]int32) {
	b = b[:12]
	clear(b)
	for k := range 8 {
		s, m := byte(ls[k]), byte(lm[k])
		if k < 4 {
			b[k] = s
			b[k+4] = m
		} else {
			b[k+4] = s&15 | (m&15)<<4
			b[k-4] |= (s >> 4) << 6
			b[k] |= (m >> 4) << 6
		}
	}
}

func quantizeQ4_K(dst []byte, src []float32) { quantizeK4(dst, src, sizeQ4_K) }

func quantizeQ5_K(dst []byte, src []float32) { quantizeK4(dst, src, sizeQ5_K) }

// quantizeK4 encodes Q4_K or Q5_K (size tells which): levels of 4 or 5
// bits in sub-blocks of 32, with 6-bit scales and mins. The search grids
// are llama.cpp's for each type.
func quantizeK4(dst []byte, src []float32, size int) {
	nmax, rmin, steps, qs := int32(15), float32(-1), 20, 16
	if size == sizeQ5_K {
		nmax, rmin, steps, qs = 31, -0.5, 15, 48
	}
	quantizeK(dst, src, size, func(sc *kScratch, b []byte, x []float32) {
		rmsWeights(sc.weight[:], x)
		d, dmin := fitAffineSubBlocks(sc, x, 32, nmax, 63, rmin, 0.1, steps)
		binary.LittleEndian.PutUint16(b[0:], d)
		binary.LittleEndian.PutUint16(b[2:], dmin)
		packScalesK4(b[4:], &sc.ls, &sc.lm)
		clear(b[16:size])
		for e := range superLen {
			h, u, l := e/64, e%64/32, e%32
			q := byte(sc.level[e])
			b[qs+32*h+l] |= (q & 15) << (4 * u)
			if size == sizeQ5_K {
				b[16+l] |= (q >> 4) << (2*h + u)
			}
		}
	})
}

func quantizeQ6_K(dst []byte, src []float32) {
	quantizeK(dst, src, sizeQ6_K, func(sc *kScratch, b []byte, x []float32) {
		absWeights(sc.weight[:], x)
		d := fitSymmetricSubBlocks(sc, x, 32, 128)
		clear(b[:sizeQ6_K])
		for e := range superLen {
			h, j, l := e/128, e%128/32, e%32
			q := byte(sc.level[e])
			b[64*h+32*(j%2)+l] |= (q & 15) << (4 * (j / 2))
			b[128+32*h+l] |= (q >> 4) << (2 * j)
		}
		for k := range 16 {
			b[192+k] = byte(int8(sc.ls[k]))
		}
		binary.LittleEndian.PutUint16(b[208:], d)
	})
}
