//go:build !arm64 || noasm

package simd

// Without the NEON tier every helper keeps its generic tier (the defaults
// set in tiers.go), and AsmEnabled reports false.
