package convert

import (
	"fmt"
	"slices"

	"github.com/llmap/llmap/format/arch"
)

// CheckModel checks that m has exactly the tensors its family's table
// (format/arch) allows, with the shapes its hyperparameters imply, that
// every required tensor is there, and that every tensor with raw bytes has
// as many as its type and shape require.
func CheckModel(m *Model) error {
	c, err := arch.FromMetadata(m.Meta)
	if err != nil {
		return err
	}
	f, _ := c.Family() // FromMetadata checked it
	seen := make(map[string]bool, len(m.Tensors))
	for i := range m.Tensors {
		t := &m.Tensors[i]
		row, layer, ok := f.Find(t.Name)
		if !ok || layer >= c.NLayers {
			return fmt.Errorf("tensor %s: not part of the %s architecture", t.Name, f.Name)
		}
		if want := row.ShapeOf(&c); !slices.Equal(t.Shape, want) {
			return fmt.Errorf("tensor %s: shape %v, want %v", t.Name, t.Shape, want)
		}
		if row.Role == arch.RoleOutput && c.SharedClassifier {
			return fmt.Errorf("tensor %s: present, but model.shared_classifier is set", t.Name)
		}
		if t.Raw != nil {
			n, err := t.RawType.RowBytes(int64(t.Rows()) * int64(t.Cols()))
			if err != nil || n != int64(len(t.Raw)) {
				return fmt.Errorf("tensor %s: %d bytes of %s data, want %d", t.Name, len(t.Raw), t.RawType, n)
			}
		}
		if seen[t.Name] {
			return fmt.Errorf("tensor %s: given twice", t.Name)
		}
		seen[t.Name] = true
	}
	for _, e := range f.Entries(&c) {
		if !seen[e.Name] && e.Required(&c) {
			return fmt.Errorf("tensor %s: missing", e.Name)
		}
	}
	return nil
}

// sortByTable puts m's tensors in the order of its family's table (the order
// of arch.Family.Entries). m must have passed CheckModel.
func sortByTable(m *Model) error {
	c, err := arch.FromMetadata(m.Meta)
	if err != nil {
		return err
	}
	f, _ := c.Family()
	rank := make(map[string]int, len(m.Tensors))
	for i, e := range f.Entries(&c) {
		rank[e.Name] = i
	}
	slices.SortStableFunc(m.Tensors, func(a, b Tensor) int { return rank[a.Name] - rank[b.Name] })
	return nil
}
