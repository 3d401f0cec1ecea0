package format

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestMetadataSetKeepsOrder(t *testing.T) {
	var m Metadata
	m.Set("b", U32(1))
	m.Set("a", String("x"))
	m.Set("b", F32(2.5)) // replaces, keeps position
	if got := m.Keys(); !reflect.DeepEqual(got, []string{"b", "a"}) {
		t.Fatalf("Keys = %q", got)
	}
	if v, _ := m.Get("b"); v.Kind() != KindF32 || v.Any() != float32(2.5) {
		t.Errorf("b = %s %v", v.Kind(), v)
	}
	keys := m.Keys()
	keys[0] = "changed"
	if m.Keys()[0] != "b" {
		t.Error("Keys shares storage with the Metadata")
	}
	if _, ok := m.Get("c"); ok {
		t.Error("Get(c) found")
	}
}

func TestMetadataGetters(t *testing.T) {
	m := allKindsMeta()
	if v, err := m.U32(KeyDim); err != nil || v != 4_000_000_000 {
		t.Errorf("U32 = %d, %v", v, err)
	}
	if v, err := m.I32(KeyTokenizerBOSID); err != nil || v != -1 {
		t.Errorf("I32 = %d, %v", v, err)
	}
	if v, err := m.U64("test.u64"); err != nil || v != 1<<64-2 {
		t.Errorf("U64 = %d, %v", v, err)
	}
	if v, err := m.F32(KeyNormEps); err != nil || v != 1e-5 {
		t.Errorf("F32 = %v, %v", v, err)
	}
	if v, err := m.Bool(KeySharedClassifier); err != nil || !v {
		t.Errorf("Bool = %v, %v", v, err)
	}
	if v, err := m.String(KeyName); err != nil || v != "test model" {
		t.Errorf("String = %q, %v", v, err)
	}
	if v, err := m.Strings(KeyTokenizerTokens); err != nil || len(v) != 5 || v[3] != "▁hello" {
		t.Errorf("Strings = %q, %v", v, err)
	}
	if v, err := m.F32s(KeyTokenizerScores); err != nil || len(v) != 5 || v[1] != -1.5 {
		t.Errorf("F32s = %v, %v", v, err)
	}
	if v, err := m.I32s(KeyTokenizerTokenTypes); err != nil || len(v) != 4 || v[1] != TokenTypeByte {
		t.Errorf("I32s = %v, %v", v, err)
	}

	_, err := m.U32("model.nope")
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `"model.nope": missing`) {
		t.Errorf("missing key: %v", err)
	}
	_, err = m.U32(KeyName)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `"general.name": has kind string, want u32`) {
		t.Errorf("wrong kind: %v", err)
	}
	_, err = m.Strings(KeyTokenizerScores)
	if err == nil || !strings.Contains(err.Error(), "has kind []f32, want []string") {
		t.Errorf("wrong kind: %v", err)
	}
}

func TestValueConstructorsCopy(t *testing.T) {
	s := []string{"a"}
	f := []float32{1}
	i := []int32{1}
	vs, vf, vi := Strings(s), F32s(f), I32s(i)
	s[0], f[0], i[0] = "b", 2, 2
	if vs.Any().([]string)[0] != "a" || vf.Any().([]float32)[0] != 1 || vi.Any().([]int32)[0] != 1 {
		t.Error("constructors share the caller's slice")
	}
}

func TestValueString(t *testing.T) {
	cases := []struct {
		v    Value
		want string
	}{
		{U32(7), "7"},
		{I32(-7), "-7"},
		{U64(1 << 40), "1099511627776"},
		{F32(0.5), "0.5"},
		{Bool(true), "true"},
		{String("a\"b"), `"a\"b"`},
		{Strings([]string{"x", "y"}), `["x", "y"]`},
		{I32s([]int32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}), "[1, 2, 3, 4, 5, 6, 7, 8, ... (10 total)]"},
		{F32s(nil), "[]"},
		{Value{}, "<invalid>"},
	}
	for _, c := range cases {
		if got := c.v.String(); got != c.want {
			t.Errorf("%s value: String = %q, want %q", c.v.Kind(), got, c.want)
		}
	}
	if KindStrings.String() != "[]string" || Kind(0).String() != "kind(0)" {
		t.Errorf("Kind.String: %q %q", KindStrings, Kind(0))
	}
}

func TestBlockTensor(t *testing.T) {
	if got := BlockTensor(11, "ffn_gate.weight"); got != "blk.11.ffn_gate.weight" {
		t.Errorf("BlockTensor = %q", got)
	}
}
