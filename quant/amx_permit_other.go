//go:build amd64 && !noasm && !linux

package quant

// amxPermit reports whether the tile state may be used. Only Linux is
// asked here (arch_prctl); elsewhere AMX stays off.
func amxPermit() bool { return false }
