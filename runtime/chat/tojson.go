package chat

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ardanlabs/jinja"
)

// tojsonName is the name under which templates reach our tojson: New
// renames every "| tojson" of a source to it, because the engine's own
// filter cannot be replaced and, with indent=, sorts keys and escapes <, >
// and & (ardanlabs/jinja v1.8.0), unlike Hugging Face's.
const tojsonName = "llmap_tojson"

// tojson is Hugging Face's tojson (transformers' json.dumps with
// ensure_ascii=False by default): keys in their order, ", " and ": "
// separators, or "," and newlines with indent=N; the indent, separators,
// sort_keys and ensure_ascii keyword arguments as in json.dumps.
// The output is at most limit bytes.
func tojson(args []jinja.Value, kwargs map[string]jinja.Value, limit int64) (jinja.Value, error) {
	if len(args) != 1 {
		return jinja.Undefined(), fmt.Errorf("tojson: takes no positional arguments")
	}
	e := jsonEncoder{item: ", ", key: ": ", limit: limit}
	for name, v := range kwargs {
		switch name {
		case "indent":
			switch {
			case v.IsNone() || v.IsUndefined():
			case v.IsInt() && v.AsInt() >= 0 && v.AsInt() <= MaxIndent:
				e.indent = strings.Repeat(" ", int(v.AsInt()))
				e.pretty = true
				e.item = ","
			case v.IsString() && len(v.AsString()) <= MaxIndent:
				e.indent, e.pretty, e.item = v.AsString(), true, ","
			default:
				return jinja.Undefined(), fmt.Errorf("tojson: indent must be an integer from 0 to %d", MaxIndent)
			}
		case "separators":
			if !v.IsList() || v.AsList().Len() != 2 || !v.AsList().Get(0).IsString() || !v.AsList().Get(1).IsString() {
				return jinja.Undefined(), fmt.Errorf("tojson: separators must be two strings")
			}
			e.item, e.key = v.AsList().Get(0).AsString(), v.AsList().Get(1).AsString()
		case "sort_keys":
			e.sortKeys = v.IsTruthy()
		case "ensure_ascii":
			e.ascii = v.IsTruthy()
		default:
			return jinja.Undefined(), fmt.Errorf("tojson: unknown argument %q", name)
		}
	}
	if err := e.encode(args[0], 0); err != nil {
		return jinja.Undefined(), err
	}
	return jinja.NewString(e.b.String()), nil
}

type jsonEncoder struct {
	b         strings.Builder
	item, key string
	indent    string
	pretty    bool // newlines and indent between items
	sortKeys  bool
	ascii     bool  // escape non-ASCII as \uXXXX
	limit     int64 // of the output's length
}

func (e *jsonEncoder) newline(depth int) {
	if e.pretty {
		e.b.WriteByte('\n')
		for range depth {
			e.b.WriteString(e.indent)
		}
	}
}

func (e *jsonEncoder) encode(v jinja.Value, depth int) error {
	if depth > MaxJSONDepth {
		return fmt.Errorf("tojson: value nests more than %d deep", MaxJSONDepth)
	}
	if int64(e.b.Len()) > e.limit {
		return fmt.Errorf("tojson: more than %d bytes", e.limit)
	}
	switch {
	case v.IsNone() || v.IsUndefined():
		e.b.WriteString("null")
	case v.IsBool():
		e.b.WriteString(strconv.FormatBool(v.AsBool()))
	case v.IsInt():
		e.b.WriteString(strconv.FormatInt(v.AsInt(), 10))
	case v.IsFloat():
		f := v.AsFloat()
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return fmt.Errorf("tojson: cannot encode %v", f)
		}
		e.b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
	case v.IsString():
		e.encodeString(v.AsString())
	case v.IsList():
		items := v.AsList().Items
		if len(items) == 0 {
			e.b.WriteString("[]")
			return nil
		}
		e.b.WriteByte('[')
		for i, item := range items {
			if i > 0 {
				e.b.WriteString(e.item)
			}
			e.newline(depth + 1)
			if err := e.encode(item, depth+1); err != nil {
				return err
			}
		}
		e.newline(depth)
		e.b.WriteByte(']')
	case v.IsDict():
		d := v.AsDict()
		keys := d.OrderedKeys()
		if len(keys) == 0 {
			e.b.WriteString("{}")
			return nil
		}
		if e.sortKeys {
			sort.Strings(keys)
		}
		e.b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				e.b.WriteString(e.item)
			}
			e.newline(depth + 1)
			e.encodeString(k)
			e.b.WriteString(e.key)
			item, _ := d.Get(k)
			if err := e.encode(item, depth+1); err != nil {
				return err
			}
		}
		e.newline(depth)
		e.b.WriteByte('}')
	default: // a callable
		e.b.WriteString("null")
	}
	return nil
}

// encodeString writes s as a JSON string the way Python's json.dumps does:
// quotes, backslashes and control characters escaped, no HTML escaping, and
// non-ASCII as \uXXXX (surrogate pairs beyond the BMP) only with
// ensure_ascii.
func (e *jsonEncoder) encodeString(s string) {
	e.b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			e.b.WriteString(`\"`)
		case r == '\\':
			e.b.WriteString(`\\`)
		case r == '\n':
			e.b.WriteString(`\n`)
		case r == '\r':
			e.b.WriteString(`\r`)
		case r == '\t':
			e.b.WriteString(`\t`)
		case r == '\b':
			e.b.WriteString(`\b`)
		case r == '\f':
			e.b.WriteString(`\f`)
		case r < 0x20:
			fmt.Fprintf(&e.b, `\u%04x`, r)
		case r < utf8.RuneSelf || !e.ascii:
			e.b.WriteRune(r)
		case r > 0xFFFF:
			r -= 0x10000
			fmt.Fprintf(&e.b, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		default:
			fmt.Fprintf(&e.b, `\u%04x`, r)
		}
	}
	e.b.WriteByte('"')
}
