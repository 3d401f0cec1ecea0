package runtime

import (
	"errors"
	"math"
	"testing"
)

// TestSamplerBadSettings: settings a user can type (NaN, ±Inf, out of range)
// are reported by Validate and by Generate, and Sample never panics on them.
func TestSamplerBadSettings(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	cases := []struct {
		name        string
		temp, topP  float32
		topK        int
		temperature bool // the error is ErrTemperature
	}{
		{"temp +Inf", inf, 0.9, 0, true},
		{"temp -Inf", -inf, 0.9, 0, true},
		{"temp NaN", nan, 0.9, 0, true},
		{"temp negative", -1, 0.9, 0, true},
		{"top-p NaN", 1, nan, 0, false},
		{"top-p +Inf", 1, inf, 0, false},
		{"top-p above 1", 1, 1.5, 0, false},
		{"top-k negative", 1, 0, -1, false},
	}
	for _, c := range cases {
		s := NewSampler(4, c.temp, c.topP, c.topK, NewRNG(1))
		err := s.Validate()
		if err == nil {
			t.Errorf("%s: Validate accepted it", c.name)
		} else if c.temperature && !errors.Is(err, ErrTemperature) {
			t.Errorf("%s: %v is not ErrTemperature", c.name, err)
		}
		if got := s.Sample([]float32{0, 3, 1, 2}); got < 0 || got > 3 {
			t.Errorf("%s: Sample = %d", c.name, got)
		}
	}
	if err := NewSampler(4, 0.8, 0.9, 2, NewRNG(1)).Validate(); err != nil {
		t.Errorf("a valid sampler: %v", err)
	}
	if err := NewSampler(4, 1, 0, 0, nil).Validate(); err == nil {
		t.Error("temperature 1 without a random generator passed Validate")
	}

	m, err := Open(convertStories(t), Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, err := m.NewState(16)
	if err != nil {
		t.Fatal(err)
	}
	emitted := 0
	_, err = m.Generate(s, Generation{Prompt: "Once", Sampler: NewSampler(m.Config.VocabSize, inf, 0.9, 0, NewRNG(1))},
		func([]byte) error { emitted++; return nil })
	if !errors.Is(err, ErrTemperature) || emitted != 0 {
		t.Errorf("Generate at temperature +Inf: %v, %d pieces emitted", err, emitted)
	}
}
