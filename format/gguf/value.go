package gguf

import (
	"fmt"
	"math"
	"strings"
)

// ValueType is the type tag of a metadata value, as stored in the file.
type ValueType uint32

// The GGUF metadata value types.
const (
	TypeUint8   ValueType = 0
	TypeInt8    ValueType = 1
	TypeUint16  ValueType = 2
	TypeInt16   ValueType = 3
	TypeUint32  ValueType = 4
	TypeInt32   ValueType = 5
	TypeFloat32 ValueType = 6
	TypeBool    ValueType = 7
	TypeString  ValueType = 8
	TypeArray   ValueType = 9
	TypeUint64  ValueType = 10
	TypeInt64   ValueType = 11
	TypeFloat64 ValueType = 12
)

var valueTypeNames = [...]string{
	"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
	"bool", "string", "array", "uint64", "int64", "float64",
}

// String returns the type's name ("uint32", "array").
func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

func (t ValueType) valid() bool { return int(t) < len(valueTypeNames) }

// minSize is the fewest bytes one value of type t occupies in a file: its
// fixed size for numbers and bools, the length prefix for strings, and the
// element type and count for arrays.
func (t ValueType) minSize() uint64 {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64, TypeString:
		return 8
	case TypeArray:
		return 12
	}
	return 1
}

// Value is one metadata value. Scalars hold the Go type of the same name
// (uint8 ... float64, bool, string). Arrays have Type == TypeArray, Elem set
// to the element type, and hold a slice of it ([]uint8 ... []string, []bool),
// or []Value for arrays of arrays.
//
// Slices returned by Value's methods may share memory with the File; do not
// modify them.
type Value struct {
	Type ValueType // the value's type; TypeArray for arrays
	Elem ValueType // the element type of an array; zero for scalars
	x    any
}

// Interface returns the Go value held (see [Value]).
func (v Value) Interface() any { return v.x }

// Len returns the number of elements of an array, and 0 for a scalar.
func (v Value) Len() int {
	switch x := v.x.(type) {
	case []uint8:
		return len(x)
	case []int8:
		return len(x)
	case []uint16:
		return len(x)
	case []int16:
		return len(x)
	case []uint32:
		return len(x)
	case []int32:
		return len(x)
	case []float32:
		return len(x)
	case []bool:
		return len(x)
	case []string:
		return len(x)
	case []uint64:
		return len(x)
	case []int64:
		return len(x)
	case []float64:
		return len(x)
	case []Value:
		return len(x)
	}
	return 0
}

// AsString returns a string value.
func (v Value) AsString() (string, bool) {
	s, ok := v.x.(string)
	return s, ok
}

// AsBool returns a bool value.
func (v Value) AsBool() (bool, bool) {
	b, ok := v.x.(bool)
	return b, ok
}

// AsInt returns a value of any integer type that fits in an int64.
func (v Value) AsInt() (int64, bool) {
	switch x := v.x.(type) {
	case uint8:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case int16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case int32:
		return int64(x), true
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	case int64:
		return x, true
	}
	return 0, false
}

// AsUint returns a value of any integer type that is non-negative.
func (v Value) AsUint() (uint64, bool) {
	if x, ok := v.x.(uint64); ok {
		return x, true
	}
	i, ok := v.AsInt()
	if !ok || i < 0 {
		return 0, false
	}
	return uint64(i), true
}

// AsFloat returns a float32 or float64 value, or an integer value converted
// to float64.
func (v Value) AsFloat() (float64, bool) {
	switch x := v.x.(type) {
	case float32:
		return float64(x), true
	case float64:
		return x, true
	}
	if i, ok := v.AsInt(); ok {
		return float64(i), true
	}
	if u, ok := v.AsUint(); ok {
		return float64(u), true
	}
	return 0, false
}

// Strings returns an array of strings.
func (v Value) Strings() ([]string, bool) {
	s, ok := v.x.([]string)
	return s, ok
}

// Float32s returns an array of float32, or an array of float64 converted.
func (v Value) Float32s() ([]float32, bool) {
	switch x := v.x.(type) {
	case []float32:
		return x, true
	case []float64:
		out := make([]float32, len(x))
		for i, f := range x {
			out[i] = float32(f)
		}
		return out, true
	}
	return nil, false
}

// Int32s returns an array of int32, or an array of another integer type
// converted if every element fits in an int32.
func (v Value) Int32s() ([]int32, bool) {
	if x, ok := v.x.([]int32); ok {
		return x, true
	}
	if v.Type != TypeArray {
		return nil, false
	}
	n := v.Len()
	out := make([]int32, n)
	for i := 0; i < n; i++ {
		e, ok := v.index(i).AsInt()
		if !ok || e < math.MinInt32 || e > math.MaxInt32 {
			return nil, false
		}
		out[i] = int32(e)
	}
	return out, true
}

// index returns element i of an array as a Value.
func (v Value) index(i int) Value {
	switch x := v.x.(type) {
	case []uint8:
		return Value{Type: TypeUint8, x: x[i]}
	case []int8:
		return Value{Type: TypeInt8, x: x[i]}
	case []uint16:
		return Value{Type: TypeUint16, x: x[i]}
	case []int16:
		return Value{Type: TypeInt16, x: x[i]}
	case []uint32:
		return Value{Type: TypeUint32, x: x[i]}
	case []int32:
		return Value{Type: TypeInt32, x: x[i]}
	case []float32:
		return Value{Type: TypeFloat32, x: x[i]}
	case []bool:
		return Value{Type: TypeBool, x: x[i]}
	case []string:
		return Value{Type: TypeString, x: x[i]}
	case []uint64:
		return Value{Type: TypeUint64, x: x[i]}
	case []int64:
		return Value{Type: TypeInt64, x: x[i]}
	case []float64:
		return Value{Type: TypeFloat64, x: x[i]}
	case []Value:
		return x[i]
	}
	return Value{}
}

// String formats the value for display; arrays longer than 8 elements are
// shortened to their first elements and their length.
func (v Value) String() string {
	if v.Type != TypeArray {
		if s, ok := v.x.(string); ok {
			return fmt.Sprintf("%q", s)
		}
		return fmt.Sprint(v.x)
	}
	const show = 8
	n := v.Len()
	var b strings.Builder
	fmt.Fprintf(&b, "[%s × %d:", v.Elem, n)
	for i := 0; i < n && i < show; i++ {
		b.WriteByte(' ')
		b.WriteString(v.index(i).String())
	}
	if n > show {
		b.WriteString(" ...")
	}
	b.WriteByte(']')
	return b.String()
}

// KV is one metadata key-value pair.
type KV struct {
	Key   string
	Value Value
}

// Lookup returns the metadata value stored under key.
func (f *File) Lookup(key string) (Value, bool) {
	i, ok := f.kvIndex[key]
	if !ok {
		return Value{}, false
	}
	return f.KV[i].Value, true
}

// String returns the string stored under key; ok is false if the key is
// missing or holds another type. The other typed getters behave alike.
func (f *File) String(key string) (s string, ok bool) {
	v, _ := f.Lookup(key)
	return v.AsString()
}

// Bool returns the bool stored under key.
func (f *File) Bool(key string) (bool, bool) {
	v, _ := f.Lookup(key)
	return v.AsBool()
}

// Uint32 returns an integer of any type stored under key if it fits in a uint32.
func (f *File) Uint32(key string) (uint32, bool) {
	v, _ := f.Lookup(key)
	u, ok := v.AsUint()
	if !ok || u > math.MaxUint32 {
		return 0, false
	}
	return uint32(u), true
}

// Uint64 returns a non-negative integer of any type stored under key.
func (f *File) Uint64(key string) (uint64, bool) {
	v, _ := f.Lookup(key)
	return v.AsUint()
}

// Int returns an integer of any type stored under key if it fits in an int.
func (f *File) Int(key string) (int, bool) {
	v, _ := f.Lookup(key)
	i, ok := v.AsInt()
	if !ok || int64(int(i)) != i {
		return 0, false
	}
	return int(i), true
}

// Float32 returns a float or integer stored under key as a float32.
func (f *File) Float32(key string) (float32, bool) {
	v, _ := f.Lookup(key)
	x, ok := v.AsFloat()
	return float32(x), ok
}

// Strings returns the array of strings stored under key. The slice is shared
// with the File; do not modify it.
func (f *File) Strings(key string) ([]string, bool) {
	v, _ := f.Lookup(key)
	return v.Strings()
}

// Float32s returns the array of floats stored under key (see [Value.Float32s]).
func (f *File) Float32s(key string) ([]float32, bool) {
	v, _ := f.Lookup(key)
	return v.Float32s()
}

// Int32s returns the array of integers stored under key (see [Value.Int32s]).
func (f *File) Int32s(key string) ([]int32, bool) {
	v, _ := f.Lookup(key)
	return v.Int32s()
}
