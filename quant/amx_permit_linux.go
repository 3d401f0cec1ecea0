//go:build amd64 && !noasm

package quant

import "syscall"

// amxPermit asks Linux for the AMX tile state (arch_prctl
// ARCH_REQ_XCOMP_PERM for XTILEDATA), without which the tile instructions
// fault; false where the kernel refuses (before Linux 5.16, a hypervisor
// that hides the state, or a signal stack too small for the larger signal
// frame: Go's are 32 KiB, the frame with the tiles about 11 KiB). The
// kernel saves the tiles on a context switch or signal; gemmQ8_0AMXV8
// releases them before it returns, so Go code never runs with tile state.
func amxPermit() bool {
	const archReqXcompPerm, xfeatureXtiledata = 0x1023, 18
	_, _, e := syscall.RawSyscall(syscall.SYS_ARCH_PRCTL, archReqXcompPerm, xfeatureXtiledata, 0)
	return e == 0
}
