package bench

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// WriteTable prints the report as a header and a Markdown table, one row per
// test and thread count, in the manner of llama.cpp's llama-bench.
func (r *Report) WriteTable(w io.Writer) error {
	mi := &r.Model
	var b strings.Builder
	fmt.Fprintf(&b, "model: %s (%s), %s, %.1fM parameters, tensors %s, context %d; KV cache %s, %s\n",
		mi.Name, mi.Arch, HumanBytes(mi.FileBytes), float64(mi.Params)/1e6, mi.TypesString(), mi.Context, mi.KVType, HumanBytes(mi.KVBytes))
	weights := "weights mapped"
	if !r.Mapped {
		weights = "weights read into memory (--no-mmap)"
	}
	fmt.Fprintf(&b, "open: %v, %s; first token after open: %v (1-token prompt, page faults included)\n",
		roundDuration(r.OpenTime), weights, roundDuration(r.FirstTokenCold))
	fmt.Fprintf(&b, "memory: peak RSS %s (VmHWM); peak anonymous %s, peak file-backed %s; page faults %d major, %d minor\n",
		HumanBytes(r.Memory.PeakRSS), HumanBytes(r.Memory.PeakAnon), HumanBytes(r.Memory.PeakFile),
		r.Memory.MajorFaults, r.Memory.MinorFaults)
	fmt.Fprintf(&b, "weights read per token: %s; read bandwidth measured in this run:", HumanBytes(r.WeightBytesPerToken))
	if len(r.ReadBandwidth) < len(r.Threads) {
		b.WriteString(" none (interrupted)")
	}
	for i, t := range r.Threads[:min(len(r.Threads), len(r.ReadBandwidth))] {
		sep := ","
		if i == 0 {
			sep = ""
		}
		fmt.Fprintf(&b, "%s %d thread%s %.1f GB/s", sep, t, plural(t), r.ReadBandwidth[i])
	}
	b.WriteString("\n\n")
	rows := [][]string{{"test", "threads", "tokens/s", "GFLOP/s", "first token", "weights GB/s", "of bandwidth"}}
	for _, res := range r.Results {
		rows = append(rows, []string{res.Test, strconv.Itoa(res.Threads),
			fmt.Sprintf("%.2f ± %.2f", res.TokensPerSec, res.StdDev), fmt.Sprintf("%.1f", res.GFLOPs),
			roundDuration(res.FirstToken).String(), "-", "-"})
		if res.WeightsGBs > 0 {
			row := rows[len(rows)-1]
			row[5], row[6] = fmt.Sprintf("%.2f", res.WeightsGBs), fmt.Sprintf("%.0f%%", 100*res.Fraction)
		}
	}
	writeMarkdown(&b, rows)
	for _, res := range r.Results {
		if res.Fraction > 1 {
			b.WriteString("\nAbove 100%: the weights fit in the CPU caches, so generation is not bound by memory bandwidth.\n")
			break
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeMarkdown prints rows as a Markdown table: the first row is the
// header, the first column is left-aligned and the others right-aligned.
func writeMarkdown(b *strings.Builder, rows [][]string) {
	width := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, c := range row {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	for k, row := range rows {
		for i, c := range row {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i == 0 {
				fmt.Fprintf(b, "| %s%s ", c, pad)
			} else {
				fmt.Fprintf(b, "| %s%s ", pad, c)
			}
		}
		b.WriteString("|\n")
		if k == 0 {
			for i := range row {
				if i == 0 {
					fmt.Fprintf(b, "| %s ", strings.Repeat("-", width[i]))
				} else {
					fmt.Fprintf(b, "| %s: ", strings.Repeat("-", width[i]-1))
				}
			}
			b.WriteString("|\n")
		}
	}
}

// WriteJSON prints the report as one indented JSON object; durations are in
// nanoseconds, bandwidths in GB/s (10^9 bytes per second).
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// CSVHeader is the first line WriteCSV prints.
var CSVHeader = []string{"model", "file_bytes", "tensor_types", "kv_type", "test", "depth", "threads", "tokens_per_sec", "stddev", "gflops",
	"first_token_ms", "weights_gb_per_sec", "read_bandwidth_gb_per_sec", "bandwidth_fraction",
	"open_ms", "first_token_cold_ms", "peak_rss_bytes", "peak_anon_bytes", "peak_file_bytes", "weight_bytes_per_token"}

// WriteCSV prints one row per result with the model's columns repeated, so
// that rows from several runs can be concatenated.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	f := func(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
	ms := func(d time.Duration) string { return f(d.Seconds()*1e3, 3) }
	for _, res := range r.Results {
		bw := 0.0
		for i, t := range r.Threads {
			if t == res.Threads && i < len(r.ReadBandwidth) {
				bw = r.ReadBandwidth[i]
			}
		}
		row := []string{r.Model.Name, strconv.FormatInt(r.Model.FileBytes, 10), r.Model.TypesString(), r.Model.KVType,
			res.Test, strconv.Itoa(res.Depth), strconv.Itoa(res.Threads), f(res.TokensPerSec, 3), f(res.StdDev, 3), f(res.GFLOPs, 2),
			ms(res.FirstToken), f(res.WeightsGBs, 3), f(bw, 3), f(res.Fraction, 4),
			ms(r.OpenTime), ms(r.FirstTokenCold), strconv.FormatInt(r.Memory.PeakRSS, 10),
			strconv.FormatInt(r.Memory.PeakAnon, 10), strconv.FormatInt(r.Memory.PeakFile, 10),
			strconv.FormatInt(r.WeightBytesPerToken, 10)}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// HumanBytes formats n with a decimal unit (MB = 10^6 bytes), as file
// sizes and bandwidths are usually quoted.
func HumanBytes(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
