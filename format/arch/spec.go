package arch

import (
	"fmt"
	"strings"
)

// SpecTable is the family's section of format/SPEC.md: its pieces and its
// tensor table in Markdown.
func (f *Family) SpecTable() string {
	var b strings.Builder
	fmt.Fprintf(&b, "`general.architecture = %q`: %s, %s, %s feed-forward", f.Name, f.Norm, f.Position, f.FFN)
	if f.Position.RoPE() {
		fmt.Fprintf(&b, "; default RoPE θ %g", f.RopeBase)
	}
	fmt.Fprintf(&b, ". Hugging Face: %s.\n\n", strings.Join(f.HF.Architectures, ", "))
	b.WriteString("| name | shape | role | Hugging Face name |\n|------|-------|------|------------------|\n")
	for i := range f.Tensors {
		t := &f.Tensors[i]
		name := t.Name
		if t.Role.Block() {
			name = "blk.N." + name
		}
		dims := make([]string, len(t.Shape))
		for i, d := range t.Shape {
			dims[i] = d.String()
		}
		role := t.Role.String()
		switch {
		case t.Role == RoleOutput:
			role += "; absent if `model.shared_classifier`"
		case t.Optional:
			role += "; optional"
		}
		hf := "–"
		if t.HFFrom != "" {
			hf = "computed from config.json `" + t.HFFrom + "`"
		}
		if t.HF != "" {
			hf = "`" + strings.ReplaceAll(t.HF, "%d", "N") + "`"
			switch t.HFLayout {
			case HFTransposed:
				hf += " (transposed)"
			case HFRotateHalf:
				hf += " (rotate-half rows, reordered)"
			}
		}
		fmt.Fprintf(&b, "| `%s` | [%s] | %s | %s |\n", name, strings.Join(dims, ", "), role, hf)
	}
	return b.String()
}
