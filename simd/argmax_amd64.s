//go:build amd64 && !noasm

#include "textflag.h"

// func argmaxMaxAVX2(p *float32, n int) float32
// Four accumulators start at -Inf. VMAXPS returns its second source operand
// (Intel order; the first operand in Go's order) when either is NaN, so
// each step is written acc = max(x, acc): a NaN element leaves acc alone.
TEXT ·argmaxMaxAVX2(SB), NOSPLIT, $0-20
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	MOVL $0xff800000, AX
	MOVQ AX, X0
	VPBROADCASTD X0, Y0
	VMOVAPS Y0, Y1
	VMOVAPS Y0, Y2
	VMOVAPS Y0, Y3

maxloop:
	VMOVUPS (SI), Y4
	VMOVUPS 32(SI), Y5
	VMOVUPS 64(SI), Y6
	VMOVUPS 96(SI), Y7
	VMAXPS  Y0, Y4, Y0
	VMAXPS  Y1, Y5, Y1
	VMAXPS  Y2, Y6, Y2
	VMAXPS  Y3, Y7, Y3
	ADDQ    $128, SI
	SUBQ    $32, CX
	JNZ     maxloop

	// The accumulators hold no NaN: combine them in any order.
	VMAXPS       Y1, Y0, Y0
	VMAXPS       Y3, Y2, Y2
	VMAXPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0x4e, X0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0xb1, X0, X1
	VMAXPS       X1, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+16(FP)
	RET

// func argmaxFindAVX2(p *float32, n int, v float32) int
// 32 elements a step compared for ordered equality (NaN equals nothing);
// the step with a match is searched 8 at a time.
TEXT ·argmaxFindAVX2(SB), NOSPLIT, $0-32
	MOVQ         p+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS v+16(FP), Y0
	XORQ         DX, DX

findloop:
	VCMPPS    $0, (SI)(DX*4), Y0, Y1
	VCMPPS    $0, 32(SI)(DX*4), Y0, Y2
	VCMPPS    $0, 64(SI)(DX*4), Y0, Y3
	VCMPPS    $0, 96(SI)(DX*4), Y0, Y4
	VORPS     Y2, Y1, Y5
	VORPS     Y4, Y3, Y6
	VORPS     Y6, Y5, Y5
	VMOVMSKPS Y5, AX
	TESTL     AX, AX
	JNZ       found
	ADDQ      $32, DX
	CMPQ      DX, CX
	JLT       findloop
	VZEROUPPER
	MOVQ      $-1, ret+24(FP)
	RET

found:
	VMOVMSKPS Y1, AX
	TESTL     AX, AX
	JNZ       done
	ADDQ      $8, DX
	VMOVMSKPS Y2, AX
	TESTL     AX, AX
	JNZ       done
	ADDQ      $8, DX
	VMOVMSKPS Y3, AX
	TESTL     AX, AX
	JNZ       done
	ADDQ      $8, DX
	VMOVMSKPS Y4, AX

done:
	BSFL       AX, AX
	ADDQ       AX, DX
	VZEROUPPER
	MOVQ       DX, ret+24(FP)
	RET
