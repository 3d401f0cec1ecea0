package main

import (
	"fmt"
	goruntime "runtime"
	"runtime/debug"
	"strings"

	"github.com/llmap/llmap/quant"
	"github.com/spf13/cobra"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, the build and the kernels in use",
		Long: `Print llmap's module version, the VCS revision it was built from (from the
build information Go records), the Go version, and the tier of the matrix
kernels this machine runs (the same as 'llmap --version').`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprint(cmd.OutOrStdout(), versionText())
			return nil
		},
	}
}

// versionText is what llmap version and llmap --version print.
func versionText() string {
	version, revision := "(unknown)", "(not recorded)"
	goVersion := goruntime.Version()
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		settings := map[string]string{}
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
		if r := settings["vcs.revision"]; r != "" {
			revision = r
			var extra []string
			if t := settings["vcs.time"]; t != "" {
				extra = append(extra, t)
			}
			if settings["vcs.modified"] == "true" {
				extra = append(extra, "with uncommitted changes")
			}
			if len(extra) > 0 {
				revision += " (" + strings.Join(extra, ", ") + ")"
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "llmap %s\n", version)
	fmt.Fprintf(&b, "  revision  %s\n", revision)
	fmt.Fprintf(&b, "  go        %s %s/%s\n", goVersion, goruntime.GOOS, goruntime.GOARCH)
	fmt.Fprintf(&b, "  kernels   %s\n", kernelTier())
	return b.String()
}

// kernelTier names the tier of matrix kernels the forward pass runs
// (quant.MatMul's, for one vector and for batches) and the CPU extensions
// it uses. It is the one place that turns quant's selection into words: a
// new tier is a new case here.
func kernelTier() string {
	if !quant.AsmEnabled() {
		return "generic (portable Go)"
	}
	tier := quant.GEMMTier()
	switch tier {
	case "avx2":
		return "avx2 (assembly: AVX2, FMA, F16C)"
	case "avx512":
		s := "avx512 (assembly: AVX-512 F/BW/VL, VNNI"
		if quant.AMXEnabled() {
			s += "; AMX-INT8 tiles for batches of Q8_0"
		}
		return s + ")"
	}
	return tier + " (assembly, " + goruntime.GOARCH + ")"
}
