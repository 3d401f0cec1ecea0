package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
)

// Pre-tokenizer regular expressions of Hugging Face tokenizer.json files,
// as written in their Split step (after JSON decoding).
const (
	hfLlama3Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	hfQwen2Pattern  = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// maxHFFile bounds the size of a tokenizer.json (the largest real ones,
// with 250k-token vocabularies, are about 35 MB) and of the small JSON files
// beside it.
const maxHFFile = 1 << 30

// ErrNoTokenizerJSON is returned by FromHFDir for a directory without a
// tokenizer.json (it may hold another tokenizer format).
var ErrNoTokenizerJSON = errors.New("no tokenizer.json")

// FromHFDir reads the tokenizer of a Hugging Face model directory:
// tokenizer.json (the vocabulary, merges, added tokens, normalizer,
// pre-tokenizer and post-processor), and, if present, tokenizer_config.json
// (bos_token, eos_token, add_bos_token, chat_template), chat_template.jinja,
// config.json and generation_config.json (bos_token_id, eos_token_id).
// Errors name the file.
//
// tokenizer.json's model must be BPE, either byte-level (GPT-2, LLaMA 3,
// Qwen 2/2.5/3, SmolLM pre-tokenizers) or SentencePiece-style (Metaspace,
// "▁" for spaces, <0xNN> byte fallback: LLaMA 2, Mistral).
//
// BOS is added to prompts when tokenizer_config.json's add_bos_token says
// so; without it, when the post-processor's template starts with a special
// token; without a template, by the family's default (LLaMA 3 and
// SentencePiece models yes, GPT-2, Qwen and SmolLM no), as llama.cpp's
// converter decides.
func FromHFDir(dir string) (*Spec, error) {
	path := filepath.Join(dir, "tokenizer.json")
	data, err := readLimited(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", dir, ErrNoTokenizerJSON)
	}
	if err != nil {
		return nil, err
	}
	var side hfSideFiles
	for _, f := range []struct {
		name string
		into any
	}{
		{"tokenizer_config.json", &side.config},
		{"config.json", &side.model},
		{"generation_config.json", &side.generation},
	} {
		p := filepath.Join(dir, f.name)
		raw, err := readLimited(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(raw, f.into); err != nil {
			return nil, fmt.Errorf("%s: %w", p, jsonError(raw, err))
		}
	}
	if side.config.ChatTemplate == nil {
		p := filepath.Join(dir, "chat_template.jinja")
		raw, err := readLimited(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		if err == nil {
			side.templateFile = string(raw)
		}
	}
	s, err := specFromTokenizerJSON(data, &side)
	if fe := (*hfFileError)(nil); errors.As(err, &fe) {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, fe.file), fe.err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// hfFileError is an error about a file beside tokenizer.json.
type hfFileError struct {
	file string // base name
	err  error
}

func (e *hfFileError) Error() string { return e.file + ": " + e.err.Error() }
func (e *hfFileError) Unwrap() error { return e.err }

// readLimited reads a whole file of at most maxHFFile bytes.
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s: is a directory", path)
	}
	if fi.Size() > maxHFFile {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d a tokenizer file may have", path, fi.Size(), maxHFFile)
	}
	return os.ReadFile(path)
}

// jsonError adds the line and column to a JSON syntax or type error.
func jsonError(data []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return err
	}
	line := bytes.Count(data[:off], []byte("\n")) + 1
	col := off - int64(bytes.LastIndexByte(data[:off], '\n'))
	if te != nil {
		what := "the document"
		if te.Field != "" {
			what = strconv.Quote(te.Field)
		}
		want := "a " + te.Type.Kind().String()
		switch te.Type.Kind() {
		case reflect.Struct, reflect.Map:
			want = "an object"
		case reflect.Slice, reflect.Array:
			want = "an array"
		case reflect.Int, reflect.Int32, reflect.Int64, reflect.Float32, reflect.Float64:
			want = "a number"
		}
		return fmt.Errorf("line %d, column %d: %s is a JSON %s, want %s", line, col, what, te.Value, want)
	}
	return fmt.Errorf("line %d, column %d: %w", line, col, err)
}

// hfSideFiles are the files beside tokenizer.json that FromTokenizerJSON
// consults; every part is optional.
type hfSideFiles struct {
	config struct { // tokenizer_config.json
		BOSToken     json.RawMessage `json:"bos_token"` // "text", {"content": "text"} or null
		EOSToken     json.RawMessage `json:"eos_token"`
		AddBOSToken  *bool           `json:"add_bos_token"`
		ChatTemplate json.RawMessage `json:"chat_template"` // "template" or [{"name", "template"}]
	}
	model struct { // config.json
		BOSTokenID json.RawMessage `json:"bos_token_id"` // id or [ids]
		EOSTokenID json.RawMessage `json:"eos_token_id"`
	}
	generation struct { // generation_config.json
		BOSTokenID json.RawMessage `json:"bos_token_id"`
		EOSTokenID json.RawMessage `json:"eos_token_id"`
	}
	templateFile string // chat_template.jinja
}

// hfTokenizerJSON is the part of tokenizer.json that llmap reads.
type hfTokenizerJSON struct {
	AddedTokens []struct {
		ID      *int   `json:"id"`
		Content string `json:"content"`
		Special bool   `json:"special"`
	} `json:"added_tokens"`
	Normalizer    *hfComponent `json:"normalizer"`
	PreTokenizer  *hfComponent `json:"pre_tokenizer"`
	PostProcessor *hfComponent `json:"post_processor"`
	Decoder       *hfComponent `json:"decoder"`
	Model         *struct {
		Type         string          `json:"type"`
		Vocab        json.RawMessage `json:"vocab"`
		Merges       json.RawMessage `json:"merges"`
		IgnoreMerges bool            `json:"ignore_merges"`
		ByteFallback bool            `json:"byte_fallback"`
		Dropout      *float64        `json:"dropout"`
		UnkToken     *string         `json:"unk_token"`
		Prefix       *string         `json:"continuing_subword_prefix"`
		Suffix       *string         `json:"end_of_word_suffix"`
	} `json:"model"`
}

// hfComponent is a normalizer, pre-tokenizer, post-processor or decoder of
// tokenizer.json: the fields of the kinds llmap recognises.
type hfComponent struct {
	Type           string         `json:"type,omitempty"`
	Normalizers    []*hfComponent `json:"normalizers,omitempty"`      // Sequence normalizer
	Pretokenizers  []*hfComponent `json:"pretokenizers,omitempty"`    // Sequence pre-tokenizer
	Processors     []*hfComponent `json:"processors,omitempty"`       // Sequence post-processor
	Decoders       []*hfComponent `json:"decoders,omitempty"`         // Sequence decoder
	AddPrefixSpace *bool          `json:"add_prefix_space,omitempty"` // ByteLevel
	UseRegex       *bool          `json:"use_regex,omitempty"`        // ByteLevel; default true
	Pattern        *struct {      // Split, Replace
		Regex  *string `json:"Regex,omitempty"`
		String *string `json:"String,omitempty"`
	} `json:"pattern,omitempty"`
	Behavior         string          `json:"behavior,omitempty"`          // Split
	Invert           bool            `json:"invert,omitempty"`            // Split
	IndividualDigits bool            `json:"individual_digits,omitempty"` // Digits
	Prepend          string          `json:"prepend,omitempty"`           // Prepend normalizer
	Content          string          `json:"content,omitempty"`           // Replace
	Replacement      string          `json:"replacement,omitempty"`       // Metaspace
	Single           json.RawMessage `json:"single,omitempty"`            // TemplateProcessing
}

// String returns the component as compact JSON, for error messages.
func (c *hfComponent) String() string {
	if c == nil {
		return "null"
	}
	b, _ := json.Marshal(c)
	s := string(b)
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// specFromTokenizerJSON reads the contents of a tokenizer.json (see
// FromHFDir); side may be nil. Errors do not name the file.
func specFromTokenizerJSON(data []byte, side *hfSideFiles) (*Spec, error) {
	if side == nil {
		side = &hfSideFiles{}
	}
	var tj hfTokenizerJSON
	if err := json.Unmarshal(data, &tj); err != nil {
		return nil, jsonError(data, err)
	}
	m := tj.Model
	switch {
	case m == nil:
		return nil, errors.New(`no "model"`)
	case m.Type == "" && m.Merges == nil:
		return nil, errors.New(`model has no "type" (llmap reads BPE models)`)
	case m.Type != "" && m.Type != "BPE":
		return nil, fmt.Errorf("model type %q is not supported (llmap reads BPE models)", m.Type)
	case m.Dropout != nil && *m.Dropout != 0:
		return nil, fmt.Errorf("BPE dropout %g is not supported", *m.Dropout)
	case m.Prefix != nil && *m.Prefix != "" || m.Suffix != nil && *m.Suffix != "":
		return nil, errors.New("BPE with a continuing_subword_prefix or end_of_word_suffix is not supported")
	case m.Vocab == nil:
		return nil, errors.New(`model has no "vocab"`)
	case m.Merges == nil:
		return nil, errors.New(`model has no "merges"`)
	}

	// Tokens: the model's vocabulary and the added tokens, ids 0..n-1.
	var vocab map[string]int
	if err := json.Unmarshal(m.Vocab, &vocab); err != nil {
		return nil, fmt.Errorf("model vocab: %w", err)
	}
	maxID := -1
	for _, id := range vocab {
		maxID = max(maxID, id)
	}
	for i, a := range tj.AddedTokens {
		if a.ID == nil {
			return nil, fmt.Errorf("added token %d %q has no id", i, a.Content)
		}
		maxID = max(maxID, *a.ID)
	}
	if maxID < 0 {
		return nil, errors.New("empty vocabulary")
	}
	n := len(vocab) + len(tj.AddedTokens) // at least maxID+1 when the ids are dense
	if maxID >= n {
		return nil, fmt.Errorf("token id %d with %d tokens: ids must be 0..n-1, each used once", maxID, n)
	}
	s := &Spec{Tokens: make([]string, maxID+1), Types: make([]int32, maxID+1), BOS: -1, EOS: -1, EOT: -1}
	for tok, id := range vocab {
		if id < 0 {
			return nil, fmt.Errorf("token %q has id %d", tok, id)
		}
		if s.Types[id] != 0 {
			return nil, fmt.Errorf("tokens %q and %q have the same id %d", s.Tokens[id], tok, id)
		}
		s.Tokens[id], s.Types[id] = tok, TypeNormal
	}
	for _, a := range tj.AddedTokens {
		id := *a.ID
		if id < 0 {
			return nil, fmt.Errorf("added token %q has id %d", a.Content, id)
		}
		if s.Types[id] != 0 && s.Tokens[id] != a.Content {
			return nil, fmt.Errorf("added token %q has id %d, which is %q's", a.Content, id, s.Tokens[id])
		}
		if prev, ok := vocab[a.Content]; ok && prev != id {
			return nil, fmt.Errorf("added token %q has id %d, the vocabulary %d", a.Content, id, prev)
		}
		s.Tokens[id], s.Types[id] = a.Content, TypeUserDefined
		if a.Special {
			s.Types[id] = TypeControl
		}
	}
	for id, typ := range s.Types {
		if typ == 0 {
			return nil, fmt.Errorf("no token has id %d (of 0..%d): ids must be dense", id, maxID)
		}
	}
	merges, err := hfMerges(m.Merges)
	if err != nil {
		return nil, err
	}

	// Byte-level or SentencePiece-style.
	family := ""
	if pre, ok, err := hfByteLevel(tj.PreTokenizer); err != nil {
		return nil, err
	} else if ok {
		s.Model, s.Pretokenizer, s.Merges, s.IgnoreMerges = ModelBPE, pre, merges, m.IgnoreMerges
		family = pre.String()
		switch n := tj.Normalizer; {
		case n == nil:
		case n.Type == "NFC":
			s.Normalizer = NormalizerNFC
		default:
			return nil, fmt.Errorf("normalizer %s is not supported with a byte-level pre-tokenizer (llmap knows NFC)", n)
		}
	} else {
		if err := hfSentencePieceStyle(&tj, s.Tokens); err != nil {
			return nil, err
		}
		s.Model, family = ModelSentencePiece, ModelSentencePiece
		hfSentencePieceTokens(s, merges, m.UnkToken)
	}

	// BOS, EOS and the rest.
	tokenID := func(what string, raw json.RawMessage) (int, bool, error) {
		text, ok := hfTokenText(raw)
		if !ok {
			return -1, false, nil
		}
		for id, tok := range s.Tokens {
			if tok == text {
				return id, true, nil
			}
		}
		return -1, false, &hfFileError{"tokenizer_config.json", fmt.Errorf("%s %q is not a token", what, text)}
	}
	// sideID returns the first id a config.json or generation_config.json
	// key lists, or -1; an id that is not a token is an error naming the
	// file.
	sideID := func(file, key string, raw json.RawMessage) (int, error) {
		ids := hfIDs(raw)
		for _, id := range ids {
			if id < 0 || id >= len(s.Tokens) {
				return -1, &hfFileError{file, fmt.Errorf("%s %d is not a token id in [0,%d)", key, id, len(s.Tokens))}
			}
		}
		if len(ids) == 0 {
			return -1, nil
		}
		return ids[0], nil
	}
	ids := make(map[string]int, 4)
	for _, c := range []struct {
		file, key string
		raw       json.RawMessage
	}{
		{"config.json", "bos_token_id", side.model.BOSTokenID},
		{"config.json", "eos_token_id", side.model.EOSTokenID},
		{"generation_config.json", "bos_token_id", side.generation.BOSTokenID},
		{"generation_config.json", "eos_token_id", side.generation.EOSTokenID},
	} {
		id, err := sideID(c.file, c.key, c.raw)
		if err != nil {
			return nil, err
		}
		ids[c.file+" "+c.key] = id
	}
	templateBOS, templateAdds, hasTemplate := hfTemplateBOS(tj.PostProcessor)
	// choose takes the token tokenizer_config.json names, else the first
	// of the candidate ids that is one.
	choose := func(what string, named json.RawMessage, candidates ...int) (int, error) {
		id, ok, err := tokenID(what, named)
		if err != nil || ok {
			return id, err
		}
		for _, c := range candidates {
			if c >= 0 {
				return c, nil
			}
		}
		return -1, nil
	}
	templateID := -1
	if templateBOS != "" {
		templateID = findToken(s.Tokens, templateBOS)
	}
	bos, err := choose("bos_token", side.config.BOSToken, ids["config.json bos_token_id"],
		ids["generation_config.json bos_token_id"], templateID, familyBOS(family, s.Tokens))
	if err != nil {
		return nil, err
	}
	eos, err := choose("eos_token", side.config.EOSToken, ids["config.json eos_token_id"],
		ids["generation_config.json eos_token_id"], familyEOS(family, s.Tokens))
	if err != nil {
		return nil, err
	}
	s.BOS, s.EOS = bos, eos
	switch {
	case side.config.AddBOSToken != nil:
		s.AddBOS = *side.config.AddBOSToken
	case hasTemplate:
		s.AddBOS = templateAdds
	default:
		s.AddBOS = familyAddsBOS(family)
	}
	if s.AddBOS && s.BOS < 0 {
		return nil, errors.New("prompts are to start with BOS, but no BOS token is named (tokenizer_config.json bos_token, config.json bos_token_id)")
	}
	s.EOT = deriveEOT(s.Tokens)
	var extra []int
	for _, raw := range []json.RawMessage{side.model.EOSTokenID, side.generation.EOSTokenID} {
		extra = append(extra, hfIDs(raw)...)
	}
	s.EOG = deriveEOG(s.Tokens, s.EOS, s.EOT, extra...)
	if err := hfChatTemplates(s, side); err != nil {
		return nil, err
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return s, nil
}

// hfMerges decodes the merges: "a b" strings or, in newer files, ["a", "b"]
// pairs, returned in the "a b" form.
func hfMerges(raw json.RawMessage) ([]string, error) {
	var merges []string
	if err := json.Unmarshal(raw, &merges); err == nil {
		return merges, nil
	}
	var pairs [][]string
	if err := json.Unmarshal(raw, &pairs); err != nil {
		return nil, errors.New(`model merges: want a list of "a b" strings or of ["a", "b"] pairs`)
	}
	merges = make([]string, len(pairs))
	for i, p := range pairs {
		if len(p) != 2 {
			return nil, fmt.Errorf("model merge %d: %d parts, want 2", i, len(p))
		}
		if strings.Contains(p[0], " ") || strings.Contains(p[1], " ") {
			return nil, fmt.Errorf("model merge %d %q: a token with a space cannot be merged by llmap", i, p)
		}
		merges[i] = p[0] + " " + p[1]
	}
	return merges, nil
}

// hfByteLevel recognises the byte-level pre-tokenizers llmap implements.
// It returns ok false (and no error) if pre has no ByteLevel step at all.
func hfByteLevel(pre *hfComponent) (Pretokenizer, bool, error) {
	if pre == nil || !pre.hasType("ByteLevel") {
		return 0, false, nil
	}
	byteLevel := func(c *hfComponent, regex bool) bool {
		return c.Type == "ByteLevel" && (c.AddPrefixSpace == nil || !*c.AddPrefixSpace) &&
			(c.UseRegex == nil || *c.UseRegex) == regex
	}
	switch {
	case byteLevel(pre, true):
		return PreGPT2, true, nil
	case pre.Type == "Sequence" && len(pre.Pretokenizers) == 2:
		a, b := pre.Pretokenizers[0], pre.Pretokenizers[1]
		if a == nil || b == nil {
			break
		}
		if a.Type == "Split" && a.Behavior == "Isolated" && !a.Invert && a.Pattern != nil && a.Pattern.Regex != nil && byteLevel(b, false) {
			switch *a.Pattern.Regex {
			case hfLlama3Pattern:
				return PreLlama3, true, nil
			case hfQwen2Pattern:
				return PreQwen2, true, nil
			}
		}
		if a.Type == "Digits" && a.IndividualDigits && byteLevel(b, true) {
			return PreSmolLM, true, nil
		}
	}
	return 0, false, fmt.Errorf("byte-level pre-tokenizer %s is not supported (llmap knows those of GPT-2, LLaMA 3, Qwen 2 and SmolLM)", pre)
}

// hasType reports whether c or a component it holds has type typ.
func (c *hfComponent) hasType(typ string) bool {
	if c == nil {
		return false
	}
	if c.Type == typ {
		return true
	}
	for _, l := range [][]*hfComponent{c.Normalizers, c.Pretokenizers, c.Processors, c.Decoders} {
		for _, sub := range l {
			if sub.hasType(typ) {
				return true
			}
		}
	}
	return false
}

// hfSentencePieceStyle checks that a tokenizer.json without a byte-level
// step is a SentencePiece-style BPE: spaces become "▁" (a Metaspace
// pre-tokenizer, a normalizer that prepends "▁" and replaces " " by it, or,
// in a file with neither a normalizer nor a pre-tokenizer, tokens that
// start with "▁") and the decoder or model falls back to <0xNN> bytes.
func hfSentencePieceStyle(tj *hfTokenizerJSON, tokens []string) error {
	metaspace := tj.PreTokenizer != nil && tj.PreTokenizer.hasType("Metaspace")
	replaces := false
	if n := tj.Normalizer; n != nil {
		steps := []*hfComponent{n}
		if n.Type == "Sequence" {
			steps = n.Normalizers
		}
		for _, st := range steps {
			switch {
			case st == nil:
			case st.Type == "Prepend" && st.Prepend == "▁":
			case st.Type == "Replace" && st.Pattern != nil && st.Pattern.String != nil && *st.Pattern.String == " " && st.Content == "▁":
				replaces = true
			default:
				return fmt.Errorf("normalizer %s is not supported (llmap knows NFC and SentencePiece's space replacement)", n)
			}
		}
	}
	if tj.PreTokenizer == nil && tj.Normalizer == nil {
		for _, t := range tokens {
			if strings.HasPrefix(t, "▁") {
				replaces = true
				break
			}
		}
	}
	if !metaspace && !replaces {
		return fmt.Errorf("pre-tokenizer %s is neither byte-level nor SentencePiece-style: not supported", tj.PreTokenizer)
	}
	if !tj.Model.ByteFallback && !tj.Decoder.hasType("ByteFallback") {
		return errors.New("SentencePiece-style BPE without byte fallback is not supported")
	}
	return nil
}

// hfSentencePieceTokens fills the scores and types of a SentencePiece-style
// vocabulary from its merges: a token's score is minus the rank of the
// first merge that produces it (0 if none does), so that merging by
// highest score applies merges in rank order; "▁" becomes " " in the tokens.
func hfSentencePieceTokens(s *Spec, merges []string, unk *string) {
	ids := make(map[string]int, len(s.Tokens))
	for i, t := range s.Tokens {
		if _, dup := ids[t]; !dup {
			ids[t] = i
		}
	}
	s.Scores = make([]float32, len(s.Tokens))
	done := make([]bool, len(s.Tokens))
	for rank, m := range merges {
		l, r, _ := strings.Cut(m, " ")
		if id, ok := ids[l+r]; ok && !done[id] {
			s.Scores[id], done[id] = -float32(rank), true
		}
	}
	for i, t := range s.Tokens {
		if len(t) == 6 && strings.HasPrefix(t, "<0x") && strings.HasSuffix(t, ">") && s.Types[i] == TypeNormal {
			s.Types[i] = TypeByte
		}
		if unk != nil && t == *unk {
			s.Types[i] = TypeUnknown
		}
		s.Tokens[i] = strings.ReplaceAll(t, "▁", " ")
	}
}

// hfTokenText reads a token named in tokenizer_config.json: "text" or
// {"content": "text", ...}; ok is false for null or absent.
func hfTokenText(raw json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil && len(raw) > 0 && raw[0] == '"' {
		return s, true
	}
	var obj struct {
		Content *string `json:"content"`
	}
	if json.Unmarshal(raw, &obj) == nil && obj.Content != nil {
		return *obj.Content, true
	}
	return "", false
}

// hfIDs reads a token id or a list of ids (config.json's eos_token_id).
func hfIDs(raw json.RawMessage) []int {
	var n int
	if len(raw) > 0 && json.Unmarshal(raw, &n) == nil {
		return []int{n}
	}
	var l []int
	if json.Unmarshal(raw, &l) == nil {
		return l
	}
	return nil
}

// hfTemplateBOS reads a TemplateProcessing post-processor (alone or in a
// Sequence): hasTemplate is whether there is one, adds whether its
// single-sequence template starts with a special token, and bos that
// token's text.
func hfTemplateBOS(pp *hfComponent) (bos string, adds, hasTemplate bool) {
	if pp == nil {
		return "", false, false
	}
	if pp.Type == "Sequence" {
		for _, p := range pp.Processors {
			if bos, adds, ok := hfTemplateBOS(p); ok {
				return bos, adds, ok
			}
		}
		return "", false, false
	}
	if pp.Type != "TemplateProcessing" {
		return "", false, false
	}
	var single []struct {
		SpecialToken *struct {
			ID string `json:"id"`
		} `json:"SpecialToken"`
	}
	if json.Unmarshal(pp.Single, &single) != nil || len(single) == 0 {
		return "", false, true
	}
	if st := single[0].SpecialToken; st != nil {
		return st.ID, true, true
	}
	return "", false, true
}

// hfChatTemplates copies the chat template(s) of tokenizer_config.json, or
// chat_template.jinja, into s unchanged. The list form
// [{"name": ..., "template": ...}] gives the "default" one as ChatTemplate
// and the others as named templates.
func hfChatTemplates(s *Spec, side *hfSideFiles) error {
	raw := side.config.ChatTemplate
	if len(raw) == 0 || string(raw) == "null" {
		s.ChatTemplate = side.templateFile
		return nil
	}
	if json.Unmarshal(raw, &s.ChatTemplate) == nil {
		return nil
	}
	var list []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return &hfFileError{"tokenizer_config.json", errors.New("chat_template is neither a string nor a list of {name, template}")}
	}
	for _, t := range list {
		if t.Name == "default" {
			s.ChatTemplate = t.Template
			continue
		}
		if s.ChatTemplates == nil {
			s.ChatTemplates = make(map[string]string)
		}
		s.ChatTemplates[t.Name] = t.Template
	}
	return nil
}

// familyBOS returns the BOS of a family whose files name none: LLaMA 3's
// <|begin_of_text|>, SentencePiece's <s>; -1 otherwise.
func familyBOS(family string, tokens []string) int {
	switch family {
	case PreLlama3.String():
		return findToken(tokens, "<|begin_of_text|>")
	case ModelSentencePiece:
		return findToken(tokens, "<s>")
	}
	return -1
}

// familyEOS returns the EOS of a family whose files name none.
func familyEOS(family string, tokens []string) int {
	switch family {
	case PreLlama3.String():
		return findToken(tokens, "<|end_of_text|>")
	case ModelSentencePiece:
		return findToken(tokens, "</s>")
	}
	return findToken(tokens, "<|endoftext|>")
}

// familyAddsBOS is whether a family's prompts start with BOS when its files
// do not say (llama.cpp's defaults: LLaMA 3 and SentencePiece yes; GPT-2,
// Qwen 2 and SmolLM no).
func familyAddsBOS(family string) bool {
	return family == PreLlama3.String() || family == ModelSentencePiece
}
