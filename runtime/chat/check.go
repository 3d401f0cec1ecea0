package chat

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Limits on template sources, checked by [New] before the Jinja engine sees
// the source. Real chat templates are at most a few tens of KiB with a
// handful of nested blocks and a few operators per tag; these bounds leave
// a wide margin.
const (
	// MaxSourceBytes bounds the size of a template source.
	MaxSourceBytes = 256 << 10
	// MaxNesting bounds both the nesting of blocks ({% if %} inside
	// {% for %} ...) and of brackets inside one tag, so that neither the
	// parser nor the evaluator can recurse deeply.
	MaxNesting = 64
	// MaxGrowth bounds how many times larger than its largest input the
	// value of one tag's expression can be: each + or ~ adds one, and
	// indent, replace and join multiply by their own bound (see
	// checkCall). With [Limits].Value it bounds the memory one
	// expression can take.
	MaxGrowth = 32
	// MaxIndent bounds the width given to the indent filter and to
	// tojson(indent=...).
	MaxIndent = 8
	// maxLiteral bounds the join separators and replace texts (bytes).
	maxLiteral = 16
	// maxSliceBound bounds the literal start and stop of a slice with a
	// step.
	maxSliceBound = 1 << 20
)

// The functions New weaves into a template so that the engine reports to
// the render's budget (see budget in values.go), and our tojson.
const (
	iterName  = "llmap_iter"  // for x in llmap_iter((...)): counts iterations
	valueName = "llmap_value" // set x = llmap_value((...)): bounds stored values
	outName   = "llmap_out"   // {{ llmap_out((...)) }}: bounds the output
	testName  = "llmap_test"  // if llmap_test((...)): charges the work of a condition
	callName  = "llmap_call"  // macro f(a, llmap_calls=llmap_call(a)): counts calls
	argName   = "llmap_arg"   // ... ~ llmap_arg(b): charges the other arguments
	callParam = "llmap_calls"
	textBytes = "\x00" // placeholder for the bytes of text of a block's body
)

// token is one lexical token of the inside of a tag.
type token struct {
	kind     tokenKind
	text     string // for strings: the text between the quotes, escapes kept
	off, end int    // byte offsets in the source: [off, end)
}

type tokenKind int

const (
	tokName tokenKind = iota
	tokNumber
	tokString
	tokOp
)

// tag is one {{ ... }}, {% ... %} or {# ... #} of a template.
type tag struct {
	stmt     bool // {% ... %}
	comment  bool // {# ... #}, which has no tokens
	off, end int  // offsets of the opening delimiter and just past the closing one
	tokens   []token
}

// trimsRight reports whether the tag ends in -}}, -%} or -#}.
func (t tag) trimsRight(src string) bool { return src[t.end-3] == '-' }

// scanTags splits a template source into its tags, skipping text. It finds
// tag ends the way the Jinja lexer does (quoted strings
// inside a tag may contain the closing delimiter) and reports an unclosed
// tag or string, so that no construct can hide from [prepare].
func scanTags(src string) ([]tag, error) {
	var tags []tag
	for i := 0; i < len(src); {
		j := strings.IndexByte(src[i:], '{')
		if j < 0 || i+j+1 >= len(src) {
			break
		}
		start := i + j
		var closer string
		switch src[start+1] {
		case '{':
			closer = "}}"
		case '%':
			closer = "%}"
		case '#':
			closer = "#}"
		default:
			i = start + 1
			continue
		}
		if closer == "#}" {
			end := strings.Index(src[start+2:], "#}")
			if end < 0 {
				return nil, errorAt(src, start, ErrSyntax, "comment is not closed")
			}
			i = start + 2 + end + 2
			tags = append(tags, tag{comment: true, off: start, end: i})
			continue
		}
		t := tag{stmt: closer == "%}", off: start}
		end, err := lexTag(src, start+2, closer, &t)
		if err != nil {
			return nil, err
		}
		t.end = end
		tags = append(tags, t)
		i = end
	}
	return tags, nil
}

// lexTag tokenises the inside of a tag that starts at off, up to closer, and
// returns the offset just past the closer.
func lexTag(src string, off int, closer string, t *tag) (int, error) {
	i := off
	if i < len(src) && (src[i] == '-' || src[i] == '+') {
		i++
	}
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case strings.HasPrefix(src[i:], closer):
			return i + len(closer), nil
		case (c == '-' || c == '+') && strings.HasPrefix(src[i+1:], closer):
			return i + 1 + len(closer), nil
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(src) && src[j] != c {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(src) {
				return 0, errorAt(src, i, ErrSyntax, "string is not closed")
			}
			t.tokens = append(t.tokens, token{tokString, src[i+1 : j], i, j + 1})
			i = j + 1
		case isNameStart(c):
			j := i + 1
			for j < len(src) && (isNameStart(src[j]) || isDigit(src[j])) {
				j++
			}
			t.tokens = append(t.tokens, token{tokName, src[i:j], i, j})
			i = j
		case isDigit(c):
			j := i + 1
			for j < len(src) && (isDigit(src[j]) || src[j] == '.' || src[j] == '_') {
				j++
			}
			t.tokens = append(t.tokens, token{tokNumber, src[i:j], i, j})
			i = j
		default:
			n := 1
			if i+1 < len(src) {
				switch src[i : i+2] {
				case "**", "//", "==", "!=", "<=", ">=":
					n = 2
				}
			}
			t.tokens = append(t.tokens, token{tokOp, src[i : i+n], i, i + n})
			i += n
		}
	}
	return 0, errorAt(src, t.off, ErrSyntax, "tag is not closed (want %q)", closer)
}

func isNameStart(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool     { return '0' <= c && c <= '9' }

// blockOpeners are the statements that open a block closed by "end"+name.
var blockOpeners = map[string]bool{
	"if": true, "for": true, "macro": true, "filter": true, "raw": true,
	"block": true, "generation": true, "with": true, "autoescape": true,
}

// forbidden statements: templates that include other files, or call blocks
// whose caller() makes recursion possible.
var forbidden = map[string]string{
	"call":    "call blocks are not supported",
	"include": "templates may not include other files",
	"import":  "templates may not import other files",
	"from":    "templates may not import other files",
	"extends": "templates may not extend other files",
}

// edit is a change prepare makes to a source: replace src[off:end] by text.
type edit struct {
	off, end int
	text     string
}

// prepare admits a template source only if the Jinja engine can render it
// within the budgets of this package, and returns the source to compile.
//
// The check is lexical and conservative (it may reject a harmless template):
// size and nesting limits; no include, import, extends or call blocks; no
// recursion through macros or loops; no * or ** (repetition); small literal
// arguments for the filters that multiply sizes; a bounded growth per tag.
//
// The returned source has the budget functions woven in: every for loop
// iterates over llmap_iter((...)), every set stores llmap_value((...)),
// every {{ ... }} prints llmap_out((...)), and "| tojson" is our own filter.
// Each returns its argument unchanged after charging it to the render's
// budget, so the output is the same as the original's.
//
// The newlines prepare adds shift the lines of the compiled source; the
// returned lines maps a line of it back to the line of src.
func prepare(src string) (compiled string, lines func(int) int, err error) {
	if len(src) > MaxSourceBytes {
		return "", nil, &Error{Kind: ErrUnsafe, Msg: fmt.Sprintf("template is %d bytes, more than the %d allowed", len(src), MaxSourceBytes)}
	}
	tags, err := scanTags(src)
	if err != nil {
		return "", nil, err
	}

	// Pass 1: the macros and their parameter counts. Each gets one more
	// parameter whose default, evaluated on every call, charges the call
	// to the budget: so recursion, which chat templates use to print
	// nested JSON schemas, ends when the budget does.
	var edits []edit
	macros := map[string]int{}    // name -> number of parameters
	macroEdit := map[string]int{} // name -> index in edits of its header's edit
	for _, t := range tags {
		if !t.stmt || len(t.tokens) == 0 || t.tokens[0].text != "macro" {
			continue
		}
		toks := t.tokens
		if len(toks) < 3 || toks[1].kind != tokName || toks[2].text != "(" {
			return "", nil, errorAt(src, toks[0].off, ErrSyntax, "macro without a name and parameter list")
		}
		name := toks[1]
		if _, dup := macros[name.text]; dup {
			return "", nil, errorAt(src, name.off, ErrUnsafe, "macro %q is defined twice", name.text)
		}
		params, closing := splitArgs(toks[2:])
		if closing < 0 {
			return "", nil, errorAt(src, toks[2].off, ErrSyntax, "macro %q: parameter list is not closed", name.text)
		}
		macros[name.text] = len(params)
		var names []string
		for _, p := range params {
			if len(p) == 0 || p[0].kind != tokName {
				return "", nil, errorAt(src, toks[2].off, ErrSyntax, "macro %q: a parameter is not a name", name.text)
			}
			// Defaults are evaluated on every call outside any hook.
			if len(p) > 1 && (p[1].text != "=" || !literal(p[2:])) {
				return "", nil, errorAt(src, p[0].off, ErrUnsafe, "macro %q: the default of %s must be a literal", name.text, p[0].text)
			}
			names = append(names, p[0].text)
		}
		// The call's arguments are charged too: a recursion can keep
		// growing values alive in its frames without storing them.
		// (The engine splits a macro header at every comma, so each
		// argument gets its own call.)
		// llmap_call's argument, the bytes of text in the macro's body,
		// is filled in at endmacro.
		extra := callParam + "=" + callName + "(" + textBytes + ")"
		for _, n := range names {
			extra += " ~ " + argName + "(" + n + ")"
		}
		if len(names) > 0 {
			extra = ", " + extra
		}
		at := toks[2+closing].off
		macroEdit[name.text] = len(edits)
		edits = append(edits, edit{at, at, extra})
	}

	// Pass 2: nesting, statements, macro calls, operators and filters.
	// textBefore[i] is the number of bytes of text before tags[i].
	textBefore := make([]int, len(tags)+1)
	for i, t := range tags {
		prevEnd := 0
		if i > 0 {
			prevEnd = tags[i-1].end
		}
		textBefore[i+1] = textBefore[i] + t.off - prevEnd
	}
	type block struct {
		kw   string
		tag  int // index in tags of the opening tag
		edit int // index in edits of the edit that wants the body's text bytes, or -1
	}
	var blocks []block // open blocks
	inRaw := false
	for ti, t := range tags {
		if !inRaw && ti > 0 && tags[ti-1].end == t.off {
			edits = append(edits, separate(src, tags[ti-1])...)
		}
		toks := t.tokens
		if len(toks) == 0 {
			continue
		}
		kw := ""
		if t.stmt && toks[0].kind == tokName {
			kw = toks[0].text
		}
		if inRaw {
			// Raw text: neither checked nor rewritten.
			if kw == "endraw" {
				inRaw = false
				blocks = blocks[:len(blocks)-1]
			}
			continue
		}
		if msg, bad := forbidden[kw]; bad {
			return "", nil, errorAt(src, toks[0].off, ErrUnsafe, "%s", msg)
		}
		skip := -1 // index of the defining name in a macro header
		if kw == "macro" {
			skip = 1
		}
		growth, err := checkTokens(src, toks, skip, macros)
		if err != nil {
			return "", nil, err
		}
		switch {
		case blockOpeners[kw] || kw == "set" && findTop(toks, "=") < 0:
			if len(blocks) >= MaxNesting {
				return "", nil, errorAt(src, toks[0].off, ErrUnsafe, "blocks nest more than %d deep", MaxNesting)
			}
			blocks = append(blocks, block{kw, ti, -1})
			switch kw {
			case "raw":
				inRaw = true
			case "filter":
				if len(toks) >= 2 {
					var args []token
					if len(toks) > 2 && toks[2].text == "(" {
						args = toks[3:]
					}
					if err := checkCall(src, toks[1], args, func(token, int, int) error { return nil }); err != nil {
						return "", nil, err
					}
				}
			case "if":
				if len(toks) < 2 {
					return "", nil, errorAt(src, toks[0].off, ErrSyntax, "if without a condition")
				}
				edits = append(edits, wrap(toks[1:], testName, growth)...)
			case "for":
				if toks[len(toks)-1].text == "recursive" {
					return "", nil, errorAt(src, toks[len(toks)-1].off, ErrUnsafe, "recursive for loops are not allowed")
				}
				in := findTop(toks, "in")
				if in < 0 || in+1 >= len(toks) {
					return "", nil, errorAt(src, toks[0].off, ErrSyntax, "for loop without \"in\"")
				}
				end := len(toks)
				if k := findTop(toks[in+1:], "if"); k >= 0 {
					end = in + 1 + k
					if end+1 >= len(toks) {
						return "", nil, errorAt(src, toks[end].off, ErrSyntax, "for loop filter without a condition")
					}
					edits = append(edits, wrap(toks[end+1:], testName, growth)...)
				}
				if end == in+1 {
					return "", nil, errorAt(src, toks[in].off, ErrSyntax, "for loop without a sequence")
				}
				blocks[len(blocks)-1].edit = len(edits) + 1 // wrap's second edit
				edits = append(edits, wrap(toks[in+1:end], iterName, growth)...)
			}
		case strings.HasPrefix(kw, "end") && blockOpeners[kw[3:]] || kw == "endset":
			if len(blocks) > 0 {
				b := blocks[len(blocks)-1]
				blocks = blocks[:len(blocks)-1]
				if b.edit >= 0 {
					n := strconv.Itoa(textBefore[ti+1] - textBefore[b.tag+1])
					edits[b.edit].text = strings.Replace(edits[b.edit].text, textBytes, n, 1)
				}
			}
		case kw == "elif":
			if len(toks) < 2 {
				return "", nil, errorAt(src, toks[0].off, ErrSyntax, "elif without a condition")
			}
			edits = append(edits, wrap(toks[1:], testName, growth)...)
		case kw == "set":
			eq := findTop(toks, "=")
			if eq+1 >= len(toks) {
				return "", nil, errorAt(src, toks[eq].off, ErrSyntax, "set without a value")
			}
			e := wrap(toks[eq+1:], valueName, growth)
			if eq == 4 && toks[1].kind == tokName && toks[2].text == "." {
				// set ns.attr = ...: the hook checks that the value does
				// not contain ns, which would make it cyclic.
				e[1].text = strings.Replace(e[1].text, ", none", ", "+toks[1].text, 1)
			}
			edits = append(edits, e...)
		case !t.stmt:
			edits = append(edits, wrap(toks, outName, growth)...)
		}
		for i, tk := range toks {
			if tk.kind == tokName && tk.text == "tojson" && i > 0 && toks[i-1].text == "|" {
				edits = append(edits, edit{tk.off, tk.end, tojsonName})
			}
		}
	}

	for i := range edits { // blocks left open: the engine reports them
		edits[i].text = strings.ReplaceAll(edits[i].text, textBytes, "0")
	}
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].off < edits[j].off })
	var b strings.Builder
	var added []int // compiled line of each newline added, ascending
	last, line := 0, 1
	for _, e := range edits {
		line += strings.Count(src[last:e.off], "\n")
		b.WriteString(src[last:e.off])
		b.WriteString(e.text)
		if e.text == "\n" {
			added = append(added, line)
			line++
		}
		last = e.end
	}
	b.WriteString(src[last:])
	lines = func(l int) int {
		return l - sort.Search(len(added), func(i int) bool { return added[i] >= l })
	}
	return b.String(), lines, nil
}

// separate returns the edits that put a newline between the tag prev and
// the tag right after it, and make prev strip it again.
//
// ardanlabs/jinja v1.8.0 applies a tag's whitespace control (-, and
// lstrip_blocks and trim_blocks) to the nearest text even when other tags
// stand in between: in "{% for %}{{ m }}\n{% endfor %}" the newline after
// {{ m }} is removed as if it followed the for tag. With a newline between
// two adjacent tags, every such search stops at it, and prev removes it:
// a statement or comment by trim_blocks, an expression by the "-" added to
// it. The output is then the one Jinja gives for the original source.
func separate(src string, prev tag) []edit {
	edits := []edit{{prev.end, prev.end, "\n"}}
	if !prev.stmt && !prev.comment && !prev.trimsRight(src) {
		at := prev.end - 2
		edits = append([]edit{{at, at, "-"}}, edits...)
	}
	return edits
}

// wrap returns the edits that turn the expression toks into
// fn((toks), growth, text, target, a, b, ...), where a, b, ... are the
// variables the expression reads: the hook charges the render growth times
// their sizes for the work of evaluating it (see budget.charge). text is the
// number of bytes of text in a loop's body, which each iteration outputs at
// most, or 0; target is none (see prepare's set).
func wrap(toks []token, fn string, growth int) []edit {
	first, last := toks[0], toks[len(toks)-1]
	tail := "), " + strconv.Itoa(growth) + ", "
	if fn == iterName {
		tail += textBytes // the body's, filled in at endfor
	} else {
		tail += "0"
	}
	tail += ", none" // the target of a set ns.attr, filled in by the caller
	seen := map[string]bool{}
	lengthOnly := map[string]bool{} // read only as name|length: no copy
	for i, tk := range toks {
		if tk.kind == tokName && (i == 0 || toks[i-1].text != ".") {
			l := i+2 < len(toks) && toks[i+1].text == "|" && toks[i+2].text == "length"
			if was, ok := lengthOnly[tk.text]; !ok || was {
				lengthOnly[tk.text] = l
			}
		}
	}
	for i, tk := range toks {
		if tk.kind != tokName || keywords[tk.text] || constants[tk.text] || seen[tk.text] || lengthOnly[tk.text] {
			continue
		}
		prev, prev2, next := "", "", ""
		if i > 0 {
			prev = toks[i-1].text
		}
		if i > 1 {
			prev2 = toks[i-2].text
		}
		if i+1 < len(toks) {
			next = toks[i+1].text
		}
		if prev == "." || prev == "|" || prev == "is" || prev == "not" && prev2 == "is" || next == "(" || next == "=" {
			continue // an attribute, filter, test, function or keyword argument
		}
		seen[tk.text] = true
		tail += ", " + tk.text
	}
	return []edit{{first.off, first.off, fn + "(("}, {last.end, last.end, tail + ")"}}
}

// constants are the names of Jinja's constants; keywords adds the other
// names in expressions that are not variables.
var (
	constants = map[string]bool{"true": true, "false": true, "none": true, "True": true, "False": true, "None": true}
	keywords  = map[string]bool{"and": true, "or": true, "not": true, "in": true, "is": true, "if": true, "else": true}
)

// findTop returns the index of the first token with the given text outside
// brackets, or -1.
func findTop(toks []token, text string) int {
	depth := 0
	for i, tk := range toks {
		if depth == 0 && tk.kind != tokString && tk.text == text {
			return i
		}
		depth += nesting(tk)
	}
	return -1
}

// nesting returns how a token changes the depth of brackets: 1 for (, [
// and {, -1 for ), ] and }, 0 otherwise.
func nesting(tk token) int {
	if tk.kind == tokOp {
		switch tk.text {
		case "(", "[", "{":
			return 1
		case ")", "]", "}":
			return -1
		}
	}
	return 0
}

// checkTokens applies the per-token rules to one tag. skip is the index of a
// macro's defining name (not a use), or -1; macros maps the names of the
// template's macros to their numbers of parameters.
//
// It returns the tag's growth: how many times larger than its inputs its
// value can be.
func checkTokens(src string, toks []token, skip int, macros map[string]int) (int, error) {
	depth := 0
	adds, mult := 0, 1
	grow := func(tk token, add, factor int) error {
		adds += add
		mult *= factor
		if (adds+1)*mult > MaxGrowth {
			return errorAt(src, tk.off, ErrUnsafe, "this tag can make a value more than %d times larger than its inputs (too many +, ~, indent, replace or join)", MaxGrowth)
		}
		return nil
	}
	var brackets []int // index of each open [
	for i, tk := range toks {
		next := func(k int) token {
			if i+k < len(toks) {
				return toks[i+k]
			}
			return token{kind: tokOp}
		}
		switch tk.kind {
		case tokOp:
			switch tk.text {
			case "(", "[", "{":
				depth++
				if depth > MaxNesting {
					return 0, errorAt(src, tk.off, ErrUnsafe, "brackets nest more than %d deep", MaxNesting)
				}
				if tk.text == "[" {
					brackets = append(brackets, i)
				}
			case ")", "]", "}":
				depth--
				if tk.text == "]" && len(brackets) > 0 {
					open := brackets[len(brackets)-1]
					brackets = brackets[:len(brackets)-1]
					if err := checkSlice(src, toks[open+1:i]); err != nil {
						return 0, err
					}
				}
			case "*", "**":
				return 0, errorAt(src, tk.off, ErrUnsafe, "the %s operator is not allowed (string and list repetition have no size bound)", tk.text)
			case "+", "~":
				// n of these make a value at most n+1 times the largest
				// operand.
				if err := grow(tk, 1, 1); err != nil {
					return 0, err
				}
			}
		case tokName:
			if i > 0 && toks[i-1].kind == tokOp && toks[i-1].text == "." {
				if next(1).text == "(" {
					if err := checkCall(src, tk, toks[i+2:], grow); err != nil {
						return 0, err
					}
				}
				break // an attribute or method name, not a variable
			}
			call := next(1).text == "("
			switch tk.text {
			case "loop":
				if call {
					return 0, errorAt(src, tk.off, ErrUnsafe, "recursive loop() calls are not allowed")
				}
			case "caller":
				return 0, errorAt(src, tk.off, ErrUnsafe, "caller() is not supported")
			case iterName, valueName, outName, testName, tojsonName, callName, argName, callParam:
				return 0, errorAt(src, tk.off, ErrUnsafe, "the name %s is reserved", tk.text)
			}
			if i > 0 && toks[i-1].text == "|" {
				var args []token
				if call {
					args = toks[i+2:]
				}
				if err := checkCall(src, tk, args, grow); err != nil {
					return 0, err
				}
			}
			if params, isMacro := macros[tk.text]; isMacro && i != skip {
				// A macro is only ever called by its name, with at most its
				// parameters: an extra positional argument would fill the
				// parameter that charges the call.
				if !call {
					return 0, errorAt(src, tk.off, ErrUnsafe, "macro %q may only be called, not used as a value", tk.text)
				}
				if n := countPositional(toks[i+1:]); n > params {
					return 0, errorAt(src, tk.off, ErrUnsafe, "macro %q takes %d arguments, called with %d", tk.text, params, n)
				}
			}
		}
	}
	return (adds + 1) * mult, nil
}

// literal reports whether toks is one literal: a string, a number, a
// negative number, true, false, none, [] or {}.
func literal(toks []token) bool {
	switch len(toks) {
	case 1:
		tk := toks[0]
		return tk.kind == tokString || tk.kind == tokNumber || constants[tk.text]
	case 2:
		return toks[0].text == "[" && toks[1].text == "]" || toks[0].text == "{" && toks[1].text == "}" ||
			toks[0].text == "-" && toks[1].kind == tokNumber
	}
	return false
}

// splitArgs splits the parenthesised, comma-separated list that opens toks
// into its items, and returns the index of the closing parenthesis (-1 if
// it is missing).
func splitArgs(toks []token) (items [][]token, closing int) {
	depth, start := 0, 1
	for i, tk := range toks {
		depth += nesting(tk)
		switch {
		case depth == 0 && nesting(tk) < 0:
			if i > start {
				items = append(items, toks[start:i])
			}
			return items, i
		case depth == 1 && tk.kind == tokOp && tk.text == ",":
			items = append(items, toks[start:i])
			start = i + 1
		}
	}
	return items, -1
}

// countPositional counts the positional arguments of the call whose
// parenthesised arguments open toks (keyword arguments are name=value).
func countPositional(toks []token) int {
	items, _ := splitArgs(toks)
	n := 0
	for _, it := range items {
		if len(it) == 0 || !(len(it) >= 2 && it[0].kind == tokName && it[1].text == "=") {
			n++
		}
	}
	return n
}

// checkSlice bounds a subscript x[start:stop:step]: with a step the engine
// allocates for the whole range before clamping it to the sequence, so
// start and stop must then be absent or small integer literals.
func checkSlice(src string, inner []token) error {
	var parts [][]token
	depth, from := 0, 0
	for i, tk := range inner {
		if depth == 0 && tk.kind == tokOp && tk.text == ":" {
			parts = append(parts, inner[from:i])
			from = i + 1
		}
		depth += nesting(tk)
	}
	parts = append(parts, inner[from:])
	if len(parts) < 3 || len(parts[2]) == 0 {
		return nil
	}
	for _, p := range parts[:2] {
		if len(p) > 0 && p[0].text == "-" {
			p = p[1:]
		}
		if len(p) == 0 {
			continue
		}
		n, err := strconv.Atoi(p[0].text)
		if len(p) != 1 || p[0].kind != tokNumber || err != nil || n > maxSliceBound {
			return errorAt(src, inner[0].off, ErrUnsafe, "a slice with a step must have no start and stop, or integer literals of at most %d", maxSliceBound)
		}
	}
	return nil
}

// checkCall bounds the arguments of the filters and methods that can
// multiply the size of their input, and charges their growth to the tag:
// indent widths and tojson indents are integer literals of at most
// MaxIndent, replace replaces a non-empty literal by a literal at most
// maxLiteral long, and join's separator is a literal at most maxLiteral
// long. Each multiplies the tag's growth by 1 + its width, length ratio or
// separator length (join puts a separator after at most every item, and
// the size of a list counts one byte per item). args are the tokens after
// the opening parenthesis, if any.
func checkCall(src string, name token, args []token, grow func(token, int, int) error) error {
	switch name.text {
	case "append", "insert", "update", "extend", "setdefault":
		return errorAt(src, name.off, ErrUnsafe, "%s is not allowed: it changes a value behind the budget's back", name.text)
	case "indent":
		if len(args) > 0 && args[0].text != ")" && !smallInt(args[0]) {
			return errorAt(src, name.off, ErrUnsafe, "indent width must be an integer literal of at most %d", MaxIndent)
		}
		width := 4 // the default
		if len(args) > 0 && args[0].kind == tokNumber {
			width, _ = strconv.Atoi(args[0].text)
		}
		return grow(name, 0, 1+width)
	case "tojson":
		for k := 0; k+2 < len(args) && args[k].text != ")"; k++ {
			if args[k].text == "indent" && args[k+1].text == "=" && !smallInt(args[k+2]) {
				return errorAt(src, name.off, ErrUnsafe, "tojson indent must be an integer literal of at most %d", MaxIndent)
			}
		}
	case "replace":
		if len(args) < 3 || args[0].kind != tokString || args[0].text == "" || args[1].text != "," ||
			args[2].kind != tokString || len(args[2].text) > maxLiteral {
			return errorAt(src, name.off, ErrUnsafe, "replace must replace a non-empty literal string by a literal of at most %d bytes", maxLiteral)
		}
		return grow(name, 0, 1+(len(args[2].text)+len(args[0].text)-1)/len(args[0].text))
	case "join":
		if len(args) > 0 && args[0].text != ")" && (args[0].kind != tokString || len(args[0].text) > maxLiteral) {
			return errorAt(src, name.off, ErrUnsafe, "join's separator must be a literal of at most %d bytes", maxLiteral)
		}
		sep := 0
		if len(args) > 0 && args[0].kind == tokString {
			sep = len(args[0].text)
		}
		return grow(name, 0, 1+sep)
	}
	return nil
}

func smallInt(tk token) bool {
	if tk.kind != tokNumber {
		return false
	}
	n, err := strconv.Atoi(tk.text)
	return err == nil && n >= 0 && n <= MaxIndent
}

// errorAt returns an *Error for the byte offset off of src, with its line
// and column.
func errorAt(src string, off int, kind error, format string, args ...any) *Error {
	line := 1 + strings.Count(src[:off], "\n")
	col := off - strings.LastIndexByte(src[:off], '\n')
	return &Error{Kind: kind, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}
