//go:build !amd64 || noasm

package quant

// Without assembly no tier registers itself: every kernel keeps its portable
// Go tier (types.go), and AsmEnabled reports false.
