//go:build amd64 && !noasm

package quant

import "golang.org/x/sys/cpu"

// On a CPU with AMX-INT8 (Sapphire Rapids and later), groups of eight
// Q8_0 vectors are multiplied with tile instructions (gemmQ8_0AMXV8);
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
// vectors of the group are zero padding); npairs is even (the batch's
// nb%4 == 0). Per group of 16 rows
// and pair of blocks: TDPBSSD of the 16 rows' quants (loaded straight
// from the rows) with each block's B tile gives the 16x8 integer sums,
// which are converted and added times the product of the two scales
// (row r's of both blocks gathered from the rows, the vectors' from the
// layout). Reference: the loop in gemm_small_avx512_amd64.go, without
// the x4 layout.
//
//go:noescape
func gemmQ8_0AMXV8(w *byte, rb, rows int, xa *byte, npairs, nv int, outs *[8]*float32, scr *amxScratch)

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
	gemmQ8_0AMXV8(&w[0], rb, rows, &b.xa[t0/8*b.xaStride()], b.nb/2, nv, &to, &scr)
}
