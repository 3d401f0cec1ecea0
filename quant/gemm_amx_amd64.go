//go:build amd64 && !noasm

package quant

import "golang.org/x/sys/cpu"

// On a CPU with AMX-INT8 (Sapphire Rapids and later), groups of eight
// Q8_0 vectors are multiplied with tile instructions (gemmQ8_0AMXV8), and
// so are groups of eight Q4_0 vectors (gemmQ4_0AMX);
// GODEBUG=cpu.amxtile=off turns them off (the 2x8 tile on the x8 layout
// then runs, as on AVX-512 CPUs without AMX; the Go runtime warns that it
// does not know the name, x/sys/cpu does), and so does hiding AVX-512.
func init() {
	// (x8Layout's condition: this file's init runs before that of
	// gemm_small_avx512_amd64.go)
	avx512 := cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VNNI
	amxLayout = avx512 && cpu.X86.HasAMXTile && cpu.X86.HasAMXInt8 && amxPermit()
}

// amxScratch is the memory gemmQ8_0AMXV8 works in: the tile
// configurations (16 rows, then the last group's), the kernel's own part
// (the two C tiles of a pair of blocks, row r of block 2p at 64r and of
// block 2p+1 at 64r+32, for even pairs at 0 and odd ones at 1024; the row
// group's sums at 2048) and the gather offsets of the rows' scales (r*rb).
type amxScratch struct {
	cfg [2][64]byte
	//lint:ignore U1000 read and written by the assembly only
	work [2560]byte
	roff [16]int32
}

// gemmQ8_0AMXV8 multiplies rows Q8_0 weight rows (rb bytes apart) with a
// group of eight vectors in the AMX layout (npairs pairs of blocks) and
// stores row r's sum with vector t to outs[t][r] for t < nv (the other
// vectors of the group are zero padding), or adds it there if acc;
// npairs is even (the batch's nb%4 == 0). Per group of 16 rows
// and pair of blocks: TDPBSSD of the 16 rows' quants (loaded straight
// from the rows) with each block's B tile gives the 16x8 integer sums,
// which are converted and added times the product of the two scales
// (row r's of both blocks gathered from the rows, the vectors' from the
// layout). Reference: the loop in gemm_small_avx512_amd64.go, without
// the x4 layout.
//
//go:noescape
func gemmQ8_0AMXV8(w *byte, rb, rows int, xa *byte, npairs, nv int, outs *[8]*float32, scr *amxScratch, acc bool)

// amxConfig writes the tile configuration of a group of m rows: tmm0 and
// tmm1 the two blocks' weights (m x 32 bytes), tmm2 and tmm3 their B tiles
// (8 x 32), tmm4..tmm7 their sums (m x 8 int32; even and odd pairs).
func amxConfig(cfg *[64]byte, m int) {
	*cfg = [64]byte{0: 1}
	for i, rows := range [8]int{m, m, 8, 8, m, m, m, m} {
		cfg[16+2*i] = 32
		cfg[48+i] = byte(rows)
	}
}

// gemmQ8_0AMX runs gemmQ8_0AMXV8 for the nv (1-8) vectors from t0 (a
// group of the AMX layout) over rows rows.
func gemmQ8_0AMX(outs [][]float32, off int, w []byte, rb, rows int, b *Batch, t0, nv int) {
	var scr amxScratch
	amxConfig(&scr.cfg[0], 16)
	amxConfig(&scr.cfg[1], max(rows%16, 1))
	for r := range scr.roff {
		scr.roff[r] = int32(r * rb)
	}
	var to [8]*float32
	for j, oj := range outs[t0 : t0+nv] {
		to[j] = &oj[off : off+rows][0]
	}
	gemmQ8_0AMXV8(&w[0], rb, rows, &b.xa[t0/8*b.xaStride()], b.nb/2, nv, &to, &scr, false)
}

// amxQ4Blocks is how many blocks of a panel of 16 Q4_0 rows gemmQ4_0AMX
// converts at a time (16 x amxQ4Blocks x 34 bytes on the stack).
const amxQ4Blocks = 64

// cvtQ4_0Q8 writes blocks k0..k0+n-1 of the 16 Q4_0 rows as Q8_0 blocks
// (the same fp16 scale; the levels minus 8 as int8), row r's at
// dst+r*stride. Reference loop:
//
//	for r := 0; r < 16; r++ {
//		for k := 0; k < n; k++ {
//			src, d := rows[r][18*(k0+k):], dst[r*stride+34*k:]
//			d[0], d[1] = src[0], src[1]
//			for i := 0; i < 16; i++ {
//				d[2+i] = byte(int8(src[2+i]&15) - 8)
//				d[18+i] = byte(int8(src[2+i]>>4) - 8)
//			}
//		}
//	}
//
//go:noescape
func cvtQ4_0Q8(dst *byte, rows *[16]*byte, k0, n, stride int)

// gemmQ4_0AMX multiplies rows Q4_0 weight rows with a batch in the AMX
// layout (every vector, the last group of eight padded): each panel of 16
// rows is converted, amxQ4Blocks blocks at a time, to Q8_0 blocks
// (cvtQ4_0Q8: the same integer products and scales), which
// gemmQ8_0AMXV8 multiplies with every group of eight vectors while they
// are in the L1 cache, adding to outs after the first part of the row.
func gemmQ4_0AMX(outs [][]float32, off int, w []byte, rb, rows int, b *Batch) {
	var scr amxScratch
	var panel [16 * amxQ4Blocks * 34]byte
	amxConfig(&scr.cfg[0], 16)
	nb := b.nb
	_ = b.xa[(b.n+7)/8*b.xaStride()-1]
	pb := -1 // the row stride the gather offsets are for
	for r0 := 0; r0 < rows; r0 += 16 {
		nr := min(16, rows-r0)
		if nr < 16 {
			amxConfig(&scr.cfg[1], nr)
		}
		var rp [16]*byte
		for i := range rp {
			rp[i] = &w[(r0+min(i, nr-1))*rb]
		}
		for k0 := 0; k0 < nb; k0 += amxQ4Blocks {
			nk := min(amxQ4Blocks, nb-k0)
			if pb != 34*nk {
				pb = 34 * nk
				for r := range scr.roff {
					scr.roff[r] = int32(r * pb)
				}
			}
			cvtQ4_0Q8(&panel[0], &rp, k0, nk, pb)
			for t0 := 0; t0 < b.n; t0 += 8 {
				nv := min(8, b.n-t0)
				var to [8]*float32
				for j, oj := range outs[t0 : t0+nv] {
					to[j] = &oj[off+r0 : off+r0+nr][0]
				}
				gemmQ8_0AMXV8(&panel[0], pb, nr, &b.xa[t0/8*b.xaStride()+k0/2*576], nk/2, nv, &to, &scr, k0 > 0)
			}
		}
	}
}
