//go:build !amd64 || noasm

package quant

// Without assembly every kernel keeps its portable Go tier (the defaults
// set in dot.go), and AsmEnabled reports false.
