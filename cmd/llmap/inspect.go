package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/llmap/llmap/format"
	"github.com/spf13/cobra"
)

func newInspectCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "inspect MODEL",
		Short: "Print a model's metadata and tensor table",
		Long: `Print the metadata of a .llmap file (long arrays are summarised), then one
line per tensor: name, type, shape, offset and bytes, and the file's size.`,
		Args: args("MODEL"),
		RunE: func(cmd *cobra.Command, a []string) error {
			f, err := format.Open(a[0])
			if err != nil {
				return describeOpenError(a[0], err)
			}
			defer f.Close()
			printInspect(cmd.OutOrStdout(), f)
			return nil
		},
	}
}

func printInspect(w io.Writer, f *format.File) {
	fmt.Fprintf(w, "file: %s (%d bytes, %s)\n\nmetadata:\n", f.Path(), f.Size(), humanBytes(f.Size()))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, k := range f.Meta.Keys() {
		v, _ := f.Meta.Get(k)
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", k, v.Kind(), v)
	}
	tw.Flush()
	fmt.Fprintf(w, "\ntensors: %d\n", len(f.Tensors))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "name\ttype\tshape\toffset\tbytes\t\n")
	for _, t := range f.Tensors {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t\n", t.Name, t.Type, shapeString(t.Shape), t.Offset, t.Size)
	}
	tw.Flush()
}

func shapeString(s []int64) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, " ") + "]"
}
