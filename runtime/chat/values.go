package chat

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ardanlabs/jinja"
)

// Budgets of one render: exceeding one fails the render with ErrRender.
// The budgets on sizes and work grow with the input (messages, tools and
// variables, counted as for stored values) since a template legitimately
// stores and prints values as large as its input; see [Limits].
const (
	// MaxRange bounds the number of items range() may produce in one
	// render, all calls together (Jinja's own sandbox allows 100000 per
	// call).
	MaxRange = 1 << 20
	// MaxIterations bounds the iterations of all for loops of a render
	// together.
	MaxIterations = 1 << 17
	// MaxMacroCalls bounds the macro calls of a render, which also bounds
	// the depth of recursion.
	MaxMacroCalls = 10000
	// MaxJSONDepth bounds the nesting of tool definitions, tool call
	// arguments and variables.
	MaxJSONDepth = 64
)

// Limits are the size and work budgets of a render whose input measures
// input bytes.
type Limits struct {
	// Value bounds one value stored with set or printed: strings count
	// their bytes, lists and mappings the sizes of their items plus one
	// per item (and their keys).
	Value int64
	// Stored bounds all values stored with set, plus macro arguments.
	Stored int64
	// Output bounds the rendered text.
	Output int64
	// Work bounds the bytes the engine may copy: every evaluation of an
	// expression is charged its tag's growth (see [MaxGrowth]) times the
	// sizes of the variables it reads. Qwen 3's template spends about 14
	// bytes of work per byte of conversation.
	Work int64
}

// LimitsFor returns the budgets of a render whose input measures input
// bytes: 1 MiB + 2*input for one value, 16 MiB + 16*input stored, 4 MiB +
// 2*input of output and 256 MiB + 64*input of work.
func LimitsFor(input int64) Limits {
	return Limits{Value: 1<<20 + 2*input, Stored: 16<<20 + 16*input, Output: 4<<20 + 2*input, Work: 256<<20 + 64*input}
}

// messageValue converts a message to the mapping templates expect:
// role and content always, the other fields only when set (templates test
// "message.tool_calls" or "reasoning_content is defined").
func messageValue(m Message) (jinja.Value, error) {
	v := jinja.NewDict()
	d := v.AsDict()
	d.Set("role", jinja.NewString(m.Role))
	d.Set("content", jinja.NewString(m.Content))
	if m.ReasoningContent != "" {
		d.Set("reasoning_content", jinja.NewString(m.ReasoningContent))
	}
	if len(m.ToolCalls) > 0 {
		calls := make([]jinja.Value, len(m.ToolCalls))
		for i, c := range m.ToolCalls {
			args := jinja.NewString(c.Arguments)
			if strings.HasPrefix(strings.TrimSpace(c.Arguments), "{") {
				a, err := jsonValue(c.Arguments)
				if err != nil {
					return jinja.Value{}, fmt.Errorf("tool call %d (%s): arguments: %w", i, c.Name, err)
				}
				args = a
			}
			fn := jinja.NewDict()
			fn.AsDict().Set("name", jinja.NewString(c.Name))
			fn.AsDict().Set("arguments", args)
			call := jinja.NewDict()
			if c.ID != "" {
				call.AsDict().Set("id", jinja.NewString(c.ID))
			}
			call.AsDict().Set("type", jinja.NewString("function"))
			call.AsDict().Set("function", fn)
			calls[i] = call
		}
		d.Set("tool_calls", jinja.NewList(calls))
	}
	if m.ToolCallID != "" {
		d.Set("tool_call_id", jinja.NewString(m.ToolCallID))
	}
	if m.Name != "" {
		d.Set("name", jinja.NewString(m.Name))
	}
	return v, nil
}

// jsonValue decodes one JSON value, keeping the order of object keys (which
// tojson reproduces) and integers as integers.
func jsonValue(s string) (jinja.Value, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	v, err := decodeJSON(dec, 0)
	if err != nil {
		return jinja.Value{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return jinja.Value{}, errors.New("invalid JSON: text after the value")
	}
	return v, nil
}

func decodeJSON(dec *json.Decoder, depth int) (jinja.Value, error) {
	tok, err := dec.Token()
	if err != nil {
		return jinja.Value{}, fmt.Errorf("invalid JSON: %w", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth >= MaxJSONDepth {
			return jinja.Value{}, fmt.Errorf("JSON nests more than %d deep", MaxJSONDepth)
		}
		if t == '{' {
			v := jinja.NewDict()
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return jinja.Value{}, fmt.Errorf("invalid JSON: %w", err)
				}
				item, err := decodeJSON(dec, depth+1)
				if err != nil {
					return jinja.Value{}, err
				}
				v.AsDict().Set(k.(string), item)
			}
			_, err := dec.Token() // '}'
			return v, err
		}
		items := []jinja.Value{}
		for dec.More() {
			item, err := decodeJSON(dec, depth+1)
			if err != nil {
				return jinja.Value{}, err
			}
			items = append(items, item)
		}
		_, err := dec.Token() // ']'
		return jinja.NewList(items), err
	case json.Number:
		return jinja.FromGoValue(t), nil
	case string:
		return jinja.NewString(t), nil
	case bool:
		return jinja.NewBool(t), nil
	default: // nil
		return jinja.None(), nil
	}
}

// newRange returns a range() for one render that produces at most MaxRange
// items over all its calls.
func newRange() jinja.Value {
	left := int64(MaxRange)
	return jinja.NewCallable("range", func(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
		if len(args) < 1 || len(args) > 3 {
			return jinja.Undefined(), fmt.Errorf("range: expected 1 to 3 arguments, got %d", len(args))
		}
		for i, a := range args {
			if !a.IsInt() {
				return jinja.Undefined(), fmt.Errorf("range: argument %d is not an integer", i+1)
			}
		}
		start, stop, step := int64(0), args[0].AsInt(), int64(1)
		if len(args) >= 2 {
			start, stop = args[0].AsInt(), args[1].AsInt()
		}
		if len(args) == 3 {
			step = args[2].AsInt()
		}
		if step == 0 {
			return jinja.Undefined(), errors.New("range: step must not be zero")
		}
		// count = ceil(|stop-start| / |step|) in uint64, which holds every
		// difference of two int64s.
		var diff, stride uint64
		if step > 0 && stop > start {
			diff, stride = uint64(stop)-uint64(start), uint64(step)
		} else if step < 0 && start > stop {
			diff, stride = uint64(start)-uint64(stop), 0-uint64(step)
		}
		var count uint64
		if stride != 0 {
			count = diff / stride
			if diff%stride != 0 {
				count++
			}
		}
		if count > uint64(left) {
			return jinja.Undefined(), fmt.Errorf("range: more than %d items in one render", MaxRange)
		}
		left -= int64(count)
		items := make([]jinja.Value, count)
		for i := range items {
			items[i] = jinja.NewInt(start + int64(i)*step)
		}
		return jinja.NewList(items), nil
	})
}

// raiseError is the error of the template's raise_exception(message).
type raiseError struct{ msg string }

func (e *raiseError) Error() string { return e.msg }

func raiseException(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
	if len(args) == 0 {
		return jinja.Undefined(), &raiseError{"raise_exception called without a message"}
	}
	return jinja.Undefined(), &raiseError{args[0].String()}
}

// budget is what one render may still spend. New weaves calls to its
// functions into the template (see prepare).
type budget struct {
	limits                                  Limits
	iterations, stored, output, calls, work int64
}

func newBudget(l Limits) *budget {
	return &budget{limits: l, iterations: MaxIterations, stored: l.Stored, output: l.Output, calls: MaxMacroCalls, work: l.Work}
}

// hookCost is the work charged for each call of a budget function, which
// bounds the interpretation overhead of tags that read nothing large.
const hookCost = 256

// charge charges the evaluation of an expression: args are the hook's
// arguments (value, growth, text, target, variables read...).
func (b *budget) charge(args []jinja.Value) error {
	if len(args) < 4 || !args[1].IsInt() || !args[2].IsInt() {
		return fmt.Errorf("budget: bad hook call")
	}
	growth := max(args[1].AsInt(), 1)
	b.work -= hookCost
	for _, v := range args[4:] {
		b.work -= growth * (1 + valueSize(v, b.work/growth))
	}
	return b.checkWork()
}

func (b *budget) checkWork() error {
	if b.work < 0 {
		return fmt.Errorf("the template did more than %d bytes of work", b.limits.Work)
	}
	return nil
}

// chargeText charges n bytes of template text written to the output.
func (b *budget) chargeText(n int64) error {
	b.work -= n
	if b.output -= n; b.output < 0 {
		return fmt.Errorf("output is larger than %d bytes", b.limits.Output)
	}
	return b.checkWork()
}

// functions returns the template functions that charge b.
func (b *budget) functions() map[string]jinja.Value {
	return map[string]jinja.Value{
		iterName: jinja.NewCallable(iterName, func(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
			if err := b.charge(args); err != nil {
				return jinja.Undefined(), err
			}
			v := args[0]
			var n int
			switch {
			case v.IsList():
				n = v.AsList().Len()
			case v.IsDict():
				n = v.AsDict().Len()
			case v.IsString():
				n = len(v.AsString())
			}
			if b.iterations -= int64(n); b.iterations < 0 {
				return jinja.Undefined(), fmt.Errorf("loops ran more than %d iterations", MaxIterations)
			}
			if err := b.chargeText(int64(n) * args[2].AsInt()); err != nil {
				return jinja.Undefined(), err
			}
			return v, nil
		}),
		valueName: jinja.NewCallable(valueName, func(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
			if err := b.charge(args); err != nil {
				return jinja.Undefined(), err
			}
			n := valueSize(args[0], b.limits.Value)
			if n > b.limits.Value {
				return jinja.Undefined(), fmt.Errorf("a stored value is larger than %d bytes", b.limits.Value)
			}
			if args[3].IsDict() && contains(args[0], args[3].AsDict(), 0) {
				return jinja.Undefined(), fmt.Errorf("a namespace may not contain itself")
			}
			if b.stored -= n; b.stored < 0 {
				return jinja.Undefined(), fmt.Errorf("stored values total more than %d bytes", b.limits.Stored)
			}
			return args[0], nil
		}),
		callName: jinja.NewCallable(callName, func(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
			if b.calls--; b.calls < 0 {
				return jinja.Undefined(), fmt.Errorf("more than %d macro calls", MaxMacroCalls)
			}
			b.work -= hookCost
			if len(args) != 1 || !args[0].IsInt() {
				return jinja.Undefined(), fmt.Errorf("budget: bad hook call")
			}
			return jinja.NewString(""), b.chargeText(args[0].AsInt())
		}),
		argName: jinja.NewCallable(argName, func(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
			return b.chargeArgs(args)
		}),
		tojsonName: jinja.NewCallable(tojsonName, func(args []jinja.Value, kwargs map[string]jinja.Value) (jinja.Value, error) {
			return tojson(args, kwargs, b.limits.Value)
		}),
		testName: jinja.NewCallable(testName, func(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
			return args[0], b.charge(args)
		}),
		outName: jinja.NewCallable(outName, func(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
			if err := b.charge(args); err != nil {
				return jinja.Undefined(), err
			}
			if b.output -= valueSize(args[0], b.output); b.output < 0 {
				return jinja.Undefined(), fmt.Errorf("output is larger than %d bytes", b.limits.Output)
			}
			return args[0], nil
		}),
	}
}

// chargeArgs charges macro arguments to the stored bytes: a recursion keeps
// its arguments alive in its frames. Each is bounded like a stored value.
func (b *budget) chargeArgs(args []jinja.Value) (jinja.Value, error) {
	for _, a := range args {
		n := valueSize(a, b.limits.Value)
		if n > b.limits.Value {
			return jinja.Undefined(), fmt.Errorf("a macro argument is larger than %d bytes", b.limits.Value)
		}
		if b.stored -= n; b.stored < 0 {
			return jinja.Undefined(), fmt.Errorf("stored values and macro arguments total more than %d bytes", b.limits.Stored)
		}
	}
	return jinja.NewString(""), nil
}

// contains reports whether v is d or holds it, at most MaxJSONDepth deep
// (a value nested deeper than that is treated as containing d).
func contains(v jinja.Value, d *jinja.Dict, depth int) bool {
	if depth > MaxJSONDepth {
		return true
	}
	switch {
	case v.IsDict():
		vd := v.AsDict()
		if vd == d {
			return true
		}
		for _, k := range vd.Keys {
			item, _ := vd.Get(k)
			if contains(item, d, depth+1) {
				return true
			}
		}
	case v.IsList():
		for _, item := range v.AsList().Items {
			if contains(item, d, depth+1) {
				return true
			}
		}
	}
	return false
}

// valueSize measures v as the budget counts it, stopping once the size is
// past limit.
func valueSize(v jinja.Value, limit int64) int64 {
	switch {
	case v.IsString():
		return int64(len(v.AsString()))
	case v.IsList():
		var n int64
		for _, item := range v.AsList().Items {
			if n += 1 + valueSize(item, limit-n); n > limit {
				break
			}
		}
		return n
	case v.IsDict():
		d := v.AsDict()
		var n int64
		for _, k := range d.Keys {
			item, _ := d.Get(k)
			if n += 1 + int64(len(k)) + valueSize(item, limit-n); n > limit {
				break
			}
		}
		return n
	}
	return 8
}
