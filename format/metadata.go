package format

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Kind is the type of a metadata value. The numeric values are stored in
// .llmap files and must never change.
type Kind uint8

const (
	KindU32     Kind = 1 // uint32
	KindI32     Kind = 2 // int32
	KindU64     Kind = 3 // uint64
	KindF32     Kind = 4 // float32
	KindBool    Kind = 5 // bool
	KindString  Kind = 6 // string (any bytes; not required to be UTF-8)
	KindStrings Kind = 7 // []string
	KindF32s    Kind = 8 // []float32
	KindI32s    Kind = 9 // []int32
)

var kindNames = [...]string{
	KindU32:     "u32",
	KindI32:     "i32",
	KindU64:     "u64",
	KindF32:     "f32",
	KindBool:    "bool",
	KindString:  "string",
	KindStrings: "[]string",
	KindF32s:    "[]f32",
	KindI32s:    "[]i32",
}

// valid reports whether k is one of the kinds above.
func (k Kind) valid() bool { return k >= KindU32 && k <= KindI32s }

// String returns the name used in SPEC.md ("u32", "[]string", ...).
func (k Kind) String() string {
	if !k.valid() {
		return fmt.Sprintf("kind(%d)", uint8(k))
	}
	return kindNames[k]
}

// Value is one typed metadata value. Build it with U32, I32, U64, F32, Bool,
// String, Strings, F32s or I32s. The zero Value is invalid and cannot be
// written.
type Value struct {
	kind Kind
	num  uint64 // u32, i32 (as int64 bits), u64, f32 (bits), bool (0/1)
	str  string
	strs []string
	f32s []float32
	i32s []int32
}

// U32 returns a u32 value.
func U32(x uint32) Value { return Value{kind: KindU32, num: uint64(x)} }

// I32 returns an i32 value.
func I32(x int32) Value { return Value{kind: KindI32, num: uint64(uint32(x))} }

// U64 returns a u64 value.
func U64(x uint64) Value { return Value{kind: KindU64, num: x} }

// F32 returns an f32 value.
func F32(x float32) Value { return Value{kind: KindF32, num: uint64(math.Float32bits(x))} }

// Bool returns a bool value.
func Bool(x bool) Value {
	v := Value{kind: KindBool}
	if x {
		v.num = 1
	}
	return v
}

// String returns a string value.
func String(x string) Value { return Value{kind: KindString, str: x} }

// Strings returns a []string value holding a copy of x.
func Strings(x []string) Value {
	return Value{kind: KindStrings, strs: append(make([]string, 0, len(x)), x...)}
}

// F32s returns a []f32 value holding a copy of x.
func F32s(x []float32) Value {
	return Value{kind: KindF32s, f32s: append(make([]float32, 0, len(x)), x...)}
}

// I32s returns a []i32 value holding a copy of x.
func I32s(x []int32) Value {
	return Value{kind: KindI32s, i32s: append(make([]int32, 0, len(x)), x...)}
}

// Kind returns the kind of v (0 for the zero Value).
func (v Value) Kind() Kind { return v.kind }

// Any returns the Go value held by v: uint32, int32, uint64, float32, bool,
// string, []string, []float32 or []int32 (nil for the zero Value). Slices
// share v's storage and must not be modified.
func (v Value) Any() any {
	switch v.kind {
	case KindU32:
		return uint32(v.num)
	case KindI32:
		return int32(uint32(v.num))
	case KindU64:
		return v.num
	case KindF32:
		return math.Float32frombits(uint32(v.num))
	case KindBool:
		return v.num != 0
	case KindString:
		return v.str
	case KindStrings:
		return v.strs
	case KindF32s:
		return v.f32s
	case KindI32s:
		return v.i32s
	}
	return nil
}

// String formats v for humans (llmap inspect). Arrays longer than 8 elements
// are abbreviated.
func (v Value) String() string {
	const show = 8
	list := func(n int, elem func(i int) string) string {
		var b strings.Builder
		b.WriteByte('[')
		for i := 0; i < n && i < show; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(elem(i))
		}
		if n > show {
			fmt.Fprintf(&b, ", ... (%d total)", n)
		}
		b.WriteByte(']')
		return b.String()
	}
	switch v.kind {
	case KindString:
		return strconv.Quote(v.str)
	case KindStrings:
		return list(len(v.strs), func(i int) string { return strconv.Quote(v.strs[i]) })
	case KindF32s:
		return list(len(v.f32s), func(i int) string { return fmt.Sprint(v.f32s[i]) })
	case KindI32s:
		return list(len(v.i32s), func(i int) string { return fmt.Sprint(v.i32s[i]) })
	case 0:
		return "<invalid>"
	}
	return fmt.Sprint(v.Any())
}

// Metadata is an ordered list of typed key/value pairs. The zero value is an
// empty list ready to use. Keys keep the order in which they were first Set.
// A copied Metadata shares storage with the original; pass *Metadata.
type Metadata struct {
	keys  []string
	vals  []Value
	index map[string]int // key -> position in keys/vals
}

// Set stores v under key, replacing any earlier value but keeping the key's
// original position.
func (m *Metadata) Set(key string, v Value) {
	if i, ok := m.index[key]; ok {
		m.vals[i] = v
		return
	}
	if m.index == nil {
		m.index = make(map[string]int)
	}
	m.index[key] = len(m.keys)
	m.keys = append(m.keys, key)
	m.vals = append(m.vals, v)
}

// Get returns the value stored under key.
func (m *Metadata) Get(key string) (Value, bool) {
	i, ok := m.index[key]
	if !ok {
		return Value{}, false
	}
	return m.vals[i], true
}

// Keys returns the keys in order.
func (m *Metadata) Keys() []string { return append([]string(nil), m.keys...) }

// Len returns the number of entries.
func (m *Metadata) Len() int { return len(m.keys) }

// lookup returns the value under key if it has kind want, or an error naming
// the key that wraps ErrInvalid.
func (m *Metadata) lookup(key string, want Kind) (Value, error) {
	v, ok := m.Get(key)
	if !ok {
		return Value{}, fmt.Errorf("metadata key %q: missing: %w", key, ErrInvalid)
	}
	if v.kind != want {
		return Value{}, fmt.Errorf("metadata key %q: has kind %s, want %s: %w", key, v.kind, want, ErrInvalid)
	}
	return v, nil
}

// U32 returns the u32 stored under key.
func (m *Metadata) U32(key string) (uint32, error) {
	v, err := m.lookup(key, KindU32)
	return uint32(v.num), err
}

// I32 returns the i32 stored under key.
func (m *Metadata) I32(key string) (int32, error) {
	v, err := m.lookup(key, KindI32)
	return int32(uint32(v.num)), err
}

// U64 returns the u64 stored under key.
func (m *Metadata) U64(key string) (uint64, error) {
	v, err := m.lookup(key, KindU64)
	return v.num, err
}

// F32 returns the f32 stored under key.
func (m *Metadata) F32(key string) (float32, error) {
	v, err := m.lookup(key, KindF32)
	return math.Float32frombits(uint32(v.num)), err
}

// Bool returns the bool stored under key.
func (m *Metadata) Bool(key string) (bool, error) {
	v, err := m.lookup(key, KindBool)
	return v.num != 0, err
}

// String returns the string stored under key.
func (m *Metadata) String(key string) (string, error) {
	v, err := m.lookup(key, KindString)
	return v.str, err
}

// Strings returns the []string stored under key. The slice is shared; do not
// modify it.
func (m *Metadata) Strings(key string) ([]string, error) {
	v, err := m.lookup(key, KindStrings)
	return v.strs, err
}

// F32s returns the []f32 stored under key. The slice is shared; do not
// modify it.
func (m *Metadata) F32s(key string) ([]float32, error) {
	v, err := m.lookup(key, KindF32s)
	return v.f32s, err
}

// I32s returns the []i32 stored under key. The slice is shared; do not
// modify it.
func (m *Metadata) I32s(key string) ([]int32, error) {
	v, err := m.lookup(key, KindI32s)
	return v.i32s, err
}
