package tokenizer

import "slices"

// specialMatcher finds special tokens written in a text: at the leftmost
// position where one starts, the longest one (Hugging Face's added-vocabulary
// matching). It looks at one byte per position until a byte that starts some
// special token, then at most one map lookup per distinct token length.
type specialMatcher struct {
	ids     map[string]int32 // token text -> id
	lengths [256][]int       // first byte -> the distinct lengths of the tokens starting with it, longest first
}

// newSpecialMatcher returns a matcher of the tokens whose ids are listed,
// the lowest id winning when two share a text. Empty texts are ignored.
func newSpecialMatcher(tokens []string, ids []int32) *specialMatcher {
	m := &specialMatcher{ids: make(map[string]int32, len(ids))}
	for _, id := range ids {
		text := tokens[id]
		if text == "" {
			continue
		}
		if prev, dup := m.ids[text]; dup && prev < id {
			continue
		}
		m.ids[text] = id
		if l := &m.lengths[text[0]]; !slices.Contains(*l, len(text)) {
			*l = append(*l, len(text))
		}
	}
	for b := range m.lengths {
		slices.SortFunc(m.lengths[b], func(x, y int) int { return y - x })
	}
	return m
}

// next returns the first special token in text at or after from: its
// start, end and id; start is -1 if there is none.
func (m *specialMatcher) next(text string, from int) (start, end int, id int32) {
	if m == nil || len(m.ids) == 0 {
		return -1, -1, -1
	}
	for i := from; i < len(text); i++ {
		for _, l := range m.lengths[text[i]] {
			if i+l > len(text) {
				continue
			}
			if id, ok := m.ids[text[i:i+l]]; ok {
				return i, i + l, id
			}
		}
	}
	return -1, -1, -1
}
