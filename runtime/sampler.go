package runtime

import (
	"errors"
	"fmt"
	"math"

	"github.com/llmap/llmap/simd"
)

// RNG is llama2.c's xorshift64* generator, so that a seed reproduces the
// reference implementation's samples.
type RNG struct{ state uint64 }

// NewRNG returns a generator seeded with seed, used as is (as llama2.c
// does). A zero seed yields only zeros, so callers pick another.
func NewRNG(seed uint64) *RNG { return &RNG{state: seed} }

// Uint32 returns the next 32 random bits.
func (r *RNG) Uint32() uint32 {
	r.state ^= r.state >> 12
	r.state ^= r.state << 25
	r.state ^= r.state >> 27
	return uint32((r.state * 0x2545F4914F6CDD1D) >> 32)
}

// Float32 returns a random float32 in [0, 1).
func (r *RNG) Float32() float32 { return float32(r.Uint32()>>8) / 16777216 }

// probIndex is a candidate token with its probability.
type probIndex struct {
	prob  float32
	index int
}

// Sampler picks the next token from logits: argmax at temperature 0,
// otherwise a sample from softmax(logits/temperature), restricted to the top
// k tokens and/or the nucleus of probability TopP.
type Sampler struct {
	Temperature float32
	TopP        float32 // nucleus sampling when in (0, 1)
	TopK        int     // keep the k most likely tokens when > 0

	rng        *RNG
	candidates []probIndex // (vocab,) scratch
	sorted     []probIndex // (vocab,) scratch for the radix sort
}

// NewSampler returns a sampler for a vocabulary of n tokens. The random
// generator is passed in: nothing here is global.
func NewSampler(n int, temperature, topP float32, topK int, rng *RNG) *Sampler {
	return &Sampler{Temperature: temperature, TopP: topP, TopK: topK, rng: rng,
		candidates: make([]probIndex, n), sorted: make([]probIndex, n)}
}

// Validate reports a setting Sample cannot honour: a temperature that is
// negative, infinite or NaN (ErrTemperature), a TopP outside [0, 1], a
// negative TopK, or no random generator for a temperature above 0.
// Generate calls it before running anything.
func (s *Sampler) Validate() error {
	switch {
	case s == nil:
		return errors.New("no sampler")
	case !(s.Temperature >= 0) || math.IsInf(float64(s.Temperature), 1):
		return fmt.Errorf("%w, got %g", ErrTemperature, s.Temperature)
	case !(s.TopP >= 0 && s.TopP <= 1):
		return fmt.Errorf("top-p must be between 0 and 1, got %g", s.TopP)
	case s.TopK < 0:
		return fmt.Errorf("top-k must be 0 or more, got %d", s.TopK)
	case s.Temperature > 0 && s.rng == nil:
		return errors.New("sampling at a temperature above 0 needs a random generator")
	}
	return nil
}

// Sample returns the next token. It overwrites logits with probabilities
// when the temperature is above 0. A temperature Validate rejects is
// treated as 0 (the most likely token): Sample never panics on a setting.
func (s *Sampler) Sample(logits []float32) int {
	if s.Temperature == 0 || s.rng == nil {
		return simd.Argmax(logits)
	}
	if err := simd.SoftmaxTemp(logits, s.Temperature); err != nil {
		return simd.Argmax(logits)
	}
	coin := s.rng.Float32()
	switch {
	case s.TopK > 0 && s.TopK < len(logits):
		return s.sampleTopK(logits, coin)
	case s.TopP > 0 && s.TopP < 1:
		return s.sampleTopP(logits, coin)
	default:
		return sampleMult(logits, coin)
	}
}

// sampleMult returns the first index whose cumulative probability exceeds coin.
func sampleMult(probs []float32, coin float32) int {
	var cdf float32
	for i, p := range probs {
		cdf += p
		if coin < cdf {
			return i
		}
	}
	return len(probs) - 1 // rounding
}

// sampleTopP samples from the smallest set of most likely tokens whose
// probabilities sum past TopP, exactly as llama2.c does: tokens below
// (1-topP)/(n-1) cannot be in the set and are dropped before sorting.
func (s *Sampler) sampleTopP(probs []float32, coin float32) int {
	cutoff := (1 - s.TopP) / float32(len(probs)-1)
	c := s.candidates[:0]
	for i, p := range probs {
		if p >= cutoff {
			c = append(c, probIndex{p, i})
		}
	}
	sortDescending(c, s.sorted)
	return s.pickNucleus(c, coin)
}

// pickNucleus truncates sorted candidates where the cumulative probability
// first exceeds TopP (all of them if TopP is not in (0, 1)) and samples
// among them with coin scaled to the kept mass.
func (s *Sampler) pickNucleus(c []probIndex, coin float32) int {
	last := len(c) - 1
	var cum float32
	for i := range c {
		cum += c[i].prob
		if s.TopP > 0 && s.TopP < 1 && cum > s.TopP {
			last = i
			break
		}
	}
	r := coin * cum
	var cdf float32
	for i := 0; i <= last; i++ {
		cdf += c[i].prob
		if r < cdf {
			return c[i].index
		}
	}
	return c[last].index // rounding
}

// sampleTopK keeps the TopK most likely tokens, then applies TopP to them.
func (s *Sampler) sampleTopK(probs []float32, coin float32) int {
	c := s.candidates[:len(probs)]
	for i, p := range probs {
		c[i] = probIndex{p, i}
	}
	sortDescending(c, s.sorted)
	return s.pickNucleus(c[:s.TopK], coin)
}

// sortDescending sorts candidates by probability, highest first, and by
// index among equal probabilities: the order of a stable sort, as glibc's
// qsort (a merge sort) gives llama2.c. It is an LSD radix sort on the bits
// of the probabilities, which are non-negative, so their IEEE bit patterns
// order like their values: three stable counting passes of 11, 11 and 10
// bits, their histograms counted in one pass over the keys, O(n), about
// twenty times faster than a comparison sort over a 32000-token vocabulary.
// scratch must be at least as long as c.
func sortDescending(c, scratch []probIndex) {
	if len(c) < 2 {
		return
	}
	var count [radixPasses][1 << radixBits]int
	for _, p := range c {
		for k := range radixPasses {
			count[k][digit(p, radixBits*k)]++
		}
	}
	src, dst := c, scratch[:len(c)]
	for k := range radixPasses {
		shift, cnt := radixBits*k, &count[k]
		if cnt[digit(src[0], shift)] == len(src) {
			continue // every key has this digit: the pass would change nothing
		}
		pos := 0
		for d := range cnt {
			pos, cnt[d] = pos+cnt[d], pos
		}
		for _, p := range src {
			d := digit(p, shift)
			dst[cnt[d]] = p
			cnt[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &c[0] {
		copy(c, src)
	}
}

// The radix sort's digits: three passes of 11 bits cover the 32-bit keys
// (the last has 10), and a histogram of 2048 counts stays in L1.
const (
	radixBits   = 11
	radixPasses = 3
)

// digit is bits [shift, shift+radixBits) of the descending sort key of p's
// probability.
func digit(p probIndex, shift int) uint32 {
	return ^math.Float32bits(p.prob) >> shift & (1<<radixBits - 1)
}
