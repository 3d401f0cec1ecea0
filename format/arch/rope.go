package arch

import (
	"encoding/json"
	"fmt"
	"math"
)

// RoPE frequency scaling as Hugging Face's config.json spells it
// (rope_scaling). llmap runs every scaled RoPE the same way: pair i of a
// head turns at θ^(-2i/head_size) / divisor[i], the divisors held in the
// model's RoleRopeFreqs tensor, and LongRoPE's attention factor multiplies
// the cosines and sines (Config.RopeAttnFactor). GGUF files carry the
// divisors as a tensor already; for Hugging Face checkpoints they are
// computed here from config.json.

// ropeScaling returns config.json's rope_scaling object and its type
// ("rope_type", or the older "type"); nil and "" if there is none or its
// type is "default" (no scaling).
func ropeScaling(j *HFConfig) (*HFConfig, string, error) {
	if !j.Has("rope_scaling") {
		return nil, "", nil
	}
	s, err := ParseHFConfig(j.Raw("rope_scaling"))
	if err != nil {
		return nil, "", fmt.Errorf("rope_scaling: %w", err)
	}
	t := s.String("rope_type")
	if t == "" {
		t = s.String("type")
	}
	if t == "default" {
		return nil, "", nil
	}
	return s, t, nil
}

// llama3RopeFreqs computes the divisors of LLaMA 3.1's RoPE scaling
// (rope_type "llama3") for head size hs and base theta. With the
// original context L, each pair's wavelength λ = 2π/θ^(-2i/hs) decides:
// λ < L/high_freq_factor keeps its frequency (divisor 1); λ >
// L/low_freq_factor is slowed by factor; in between the frequency is the
// blend (1-s)·f/factor + s·f, s = (L/λ - low)/(high - low), which meets
// both ends continuously.
func llama3RopeFreqs(s *HFConfig, hs int, theta float64) ([]float32, error) {
	factor := s.Float("factor", 0)
	low, high := s.Float("low_freq_factor", 1), s.Float("high_freq_factor", 4)
	orig := s.Float("original_max_position_embeddings", 8192)
	if !(factor >= 1 && factor <= 1e6) || !(low > 0) || !(high > low) || !(orig >= 1) {
		return nil, fmt.Errorf("rope_scaling (llama3): factor %g, low_freq_factor %g, high_freq_factor %g, original_max_position_embeddings %g are out of range",
			factor, low, high, orig)
	}
	div := make([]float32, hs/2)
	for i := range div {
		wavelen := 2 * math.Pi * math.Pow(theta, float64(2*i)/float64(hs))
		switch {
		case wavelen < orig/high:
			div[i] = 1
		case wavelen > orig/low:
			div[i] = float32(factor)
		default:
			sm := (orig/wavelen - low) / (high - low)
			div[i] = float32(1 / ((1-sm)/factor + sm))
		}
	}
	return div, nil
}

// longRoPE applies LongRoPE (rope_type "longrope", formerly "su": Phi-3
// 128k, Phi-3.5) to c: the short factors become the divisors, the
// attention factor (rope_scaling's attention_factor, else
// sqrt(1 + ln(s)/ln(L)) for s = max_position_embeddings/L > 1) goes into
// c.RopeAttnFactor, and the context is capped at L, the
// original_max_position_embeddings. Hugging Face switches to the long
// factors once a sequence grows past L, re-rotating every cached key;
// llmap keeps one rotation per position, so it runs these models up to L
// positions, where the short factors are exact.
func longRoPE(j, s *HFConfig, c *Config) error {
	orig := j.Int(c.ContextLength, "original_max_position_embeddings")
	if orig <= 0 || orig > c.ContextLength {
		return fmt.Errorf("original_max_position_embeddings %d is out of range (1..max_position_embeddings %d)", orig, c.ContextLength)
	}
	var short []float64
	if err := json.Unmarshal(s.Raw("short_factor"), &short); err != nil || len(short) != c.HeadSize/2 {
		return fmt.Errorf("rope_scaling.short_factor: want a list of head_dim/2 = %d numbers", c.HeadSize/2)
	}
	div := make([]float32, len(short))
	for i, v := range short {
		if !(v > 0 && v < 1e6) {
			return fmt.Errorf("rope_scaling.short_factor[%d] = %g is out of range", i, v)
		}
		div[i] = float32(v)
	}
	attn := s.Float("attention_factor", 0)
	if !s.Has("attention_factor") {
		attn = 1
		if scale := float64(c.ContextLength) / float64(orig); scale > 1 {
			attn = math.Sqrt(1 + math.Log(scale)/math.Log(float64(orig)))
		}
	}
	if !(attn > 0 && attn <= 100) {
		return fmt.Errorf("rope_scaling.attention_factor %g is out of range", attn)
	}
	j.Derive(RoleRopeFreqs, div)
	if attn != 1 {
		c.RopeAttnFactor = float32(attn)
	}
	if orig < c.ContextLength {
		j.Note("rope_scaling longrope: llmap runs the short factors, exact up to original_max_position_embeddings %d; "+
			"the context is capped there (max_position_embeddings %d needs the long factors)", orig, c.ContextLength)
		c.ContextLength = orig
	}
	return nil
}
