package chat

import (
	"fmt"
	"strconv"
	"strings"
)

// Limits on template sources, checked by [New] before the Jinja engine sees
// the source. Real chat templates are at most a few tens of KiB with a
// handful of nested blocks; these bounds leave a wide margin.
const (
	// MaxSourceBytes bounds the size of a template source.
	MaxSourceBytes = 256 << 10
	// MaxNesting bounds both the nesting of blocks ({% if %} inside
	// {% for %} ...) and of brackets inside one tag, so that neither the
	// parser nor the evaluator can recurse deeply.
	MaxNesting = 64
	// MaxIndent bounds the width given to the indent filter and to
	// tojson(indent=...).
	MaxIndent = 64
)

// token is one lexical token of the inside of a tag.
type token struct {
	kind tokenKind
	text string // for strings: the text between the quotes, escapes kept
	off  int    // byte offset in the source
}

type tokenKind int

const (
	tokName tokenKind = iota
	tokNumber
	tokString
	tokOp
)

// tag is one {{ ... }} or {% ... %} of a template.
type tag struct {
	stmt   bool // {% ... %} rather than {{ ... }}
	off    int  // offset of the opening delimiter
	tokens []token
}

// scanTags splits a template source into its tags, skipping text and
// comments. It finds tag ends the way the Jinja lexer does (quoted strings
// inside a tag may contain the closing delimiter) and reports an unclosed
// tag or string, so that no construct can hide from [checkSource].
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
			continue
		}
		t := tag{stmt: closer == "%}", off: start}
		end, err := lexTag(src, start+2, closer, &t)
		if err != nil {
			return nil, err
		}
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
			t.tokens = append(t.tokens, token{tokString, src[i+1 : j], i})
			i = j + 1
		case isNameStart(c):
			j := i + 1
			for j < len(src) && (isNameStart(src[j]) || isDigit(src[j])) {
				j++
			}
			t.tokens = append(t.tokens, token{tokName, src[i:j], i})
			i = j
		case isDigit(c):
			j := i + 1
			for j < len(src) && (isDigit(src[j]) || src[j] == '.' || src[j] == '_') {
				j++
			}
			t.tokens = append(t.tokens, token{tokNumber, src[i:j], i})
			i = j
		default:
			n := 1
			if i+1 < len(src) {
				switch src[i : i+2] {
				case "**", "//", "==", "!=", "<=", ">=":
					n = 2
				}
			}
			t.tokens = append(t.tokens, token{tokOp, src[i : i+n], i})
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

// checkSource admits a template source only if the Jinja engine can render
// it without unbounded recursion and without the constructs that allocate
// without limit in one step. It is a conservative lexical check: it may
// reject a harmless template, never the other way round for the rules it
// states (see the package documentation for what it does not bound).
//
// It returns the source to compile: src with every "| tojson" filter
// renamed to our own (see tojsonFilter).
func checkSource(src string) (string, error) {
	if len(src) > MaxSourceBytes {
		return "", &Error{Kind: ErrUnsafe, Msg: fmt.Sprintf("template is %d bytes, more than the %d allowed", len(src), MaxSourceBytes)}
	}
	tags, err := scanTags(src)
	if err != nil {
		return "", err
	}

	// Pass 1: the macros, in order of definition.
	macroIndex := map[string]int{}
	for _, t := range tags {
		if t.stmt && len(t.tokens) >= 2 && t.tokens[0].text == "macro" {
			name := t.tokens[1]
			if _, dup := macroIndex[name.text]; dup {
				return "", errorAt(src, name.off, ErrUnsafe, "macro %q is defined twice", name.text)
			}
			macroIndex[name.text] = len(macroIndex)
		}
	}

	// Pass 2: nesting, statements, macro calls, operators and filters.
	var blocks []string // open block keywords
	outerMacro := -1    // index of the outermost macro being defined, -1 outside
	macroDepth := 0
	for _, t := range tags {
		toks := t.tokens
		if len(toks) == 0 {
			continue
		}
		skip := -1 // index of the defining name in a macro header
		if t.stmt && toks[0].kind == tokName {
			kw := toks[0].text
			if msg, bad := forbidden[kw]; bad {
				return "", errorAt(src, toks[0].off, ErrUnsafe, "%s", msg)
			}
			switch {
			case blockOpeners[kw] || kw == "set" && isBlockSet(toks):
				if len(blocks) >= MaxNesting {
					return "", errorAt(src, toks[0].off, ErrUnsafe, "blocks nest more than %d deep", MaxNesting)
				}
				blocks = append(blocks, kw)
				if kw == "macro" {
					if macroDepth == 0 && len(toks) >= 2 {
						outerMacro = macroIndex[toks[1].text]
					}
					macroDepth++
					skip = 1
				}
				if kw == "for" && toks[len(toks)-1].text == "recursive" {
					return "", errorAt(src, toks[len(toks)-1].off, ErrUnsafe, "recursive for loops are not allowed")
				}
			case strings.HasPrefix(kw, "end") && blockOpeners[kw[3:]] || kw == "endset":
				if len(blocks) > 0 {
					blocks = blocks[:len(blocks)-1]
				}
				if kw == "endmacro" && macroDepth > 0 {
					macroDepth--
					if macroDepth == 0 {
						outerMacro = -1
					}
				}
			}
		}
		if err := checkTokens(src, toks, skip, macroIndex, outerMacro); err != nil {
			return "", err
		}
	}

	var b strings.Builder
	last := 0
	for _, t := range tags {
		for i, tk := range t.tokens {
			if tk.kind == tokName && tk.text == "tojson" && i > 0 && t.tokens[i-1].text == "|" {
				b.WriteString(src[last:tk.off])
				b.WriteString(tojsonName)
				last = tk.off + len(tk.text)
			}
		}
	}
	b.WriteString(src[last:])
	return b.String(), nil
}

// isBlockSet reports whether a set statement is the block form
// {% set name %}...{% endset %}, which has no "=".
func isBlockSet(toks []token) bool {
	for _, tk := range toks {
		if tk.kind == tokOp && tk.text == "=" {
			return false
		}
	}
	return true
}

// checkTokens applies the per-token rules to one tag. skip is the index of a
// macro's defining name (not a use), or -1; outerMacro is the definition
// index of the outermost macro whose body the tag is in, or -1.
func checkTokens(src string, toks []token, skip int, macroIndex map[string]int, outerMacro int) error {
	depth := 0
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
					return errorAt(src, tk.off, ErrUnsafe, "brackets nest more than %d deep", MaxNesting)
				}
			case ")", "]", "}":
				depth--
			case "*", "**":
				return errorAt(src, tk.off, ErrUnsafe, "the %s operator is not allowed (string and list repetition have no size bound)", tk.text)
			}
		case tokName:
			if i > 0 && toks[i-1].kind == tokOp && toks[i-1].text == "." {
				break // an attribute or method name, not a variable
			}
			call := next(1).text == "("
			switch tk.text {
			case "loop":
				if call {
					return errorAt(src, tk.off, ErrUnsafe, "recursive loop() calls are not allowed")
				}
			case "caller":
				return errorAt(src, tk.off, ErrUnsafe, "caller() is not supported")
			}
			if idx, isMacro := macroIndex[tk.text]; isMacro && i != skip {
				if !call {
					return errorAt(src, tk.off, ErrUnsafe, "macro %q may only be called, not used as a value", tk.text)
				}
				if outerMacro >= 0 && idx >= outerMacro {
					return errorAt(src, tk.off, ErrUnsafe, "macro %q is called from a macro defined before it or from itself (recursion is not allowed)", tk.text)
				}
			}
		}
		if tk.kind == tokName && next(1).text == "(" && (i == 0 || toks[i-1].text == "|" || toks[i-1].text == ".") {
			if err := checkFilterArgs(src, tk, toks[i+2:]); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkFilterArgs bounds the arguments of the filters and methods that can
// multiply the size of their input: indent and tojson widths must be small
// integer literals, and replace must replace a non-empty literal string
// (replacing "" inserts the new text between every two characters).
func checkFilterArgs(src string, name token, args []token) error {
	switch name.text {
	case "indent":
		if len(args) > 0 && args[0].text != ")" && !smallInt(args[0]) {
			return errorAt(src, name.off, ErrUnsafe, "indent width must be an integer literal of at most %d", MaxIndent)
		}
	case "tojson":
		for k := 0; k+2 < len(args) && args[k].text != ")"; k++ {
			if args[k].text == "indent" && args[k+1].text == "=" && !smallInt(args[k+2]) {
				return errorAt(src, name.off, ErrUnsafe, "tojson indent must be an integer literal of at most %d", MaxIndent)
			}
		}
	case "replace":
		if len(args) == 0 || args[0].kind != tokString || args[0].text == "" {
			return errorAt(src, name.off, ErrUnsafe, "replace must replace a non-empty literal string")
		}
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
