package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/runtime"
	"github.com/llmap/llmap/runtime/explore"
	"github.com/spf13/cobra"
)

type embedFlags struct {
	k        int
	metric   string
	from, to string
	output   string
	threads  int
	pairs    string
	pca      string
}

// embedActions are the things `llmap embed` does, with their arguments.
var embedActions = map[string]struct {
	args     []string // names of the arguments after the action
	variadic bool     // the last argument may repeat
}{
	"vector":    {args: []string{"WORD"}},
	"nearest":   {args: []string{"WORD"}},
	"analogy":   {args: []string{"A", "B", "C"}},
	"direction": {args: []string{"WORD"}, variadic: true},
	"context":   {args: []string{"TEXT"}},
	"map":       {args: []string{"WORD"}, variadic: true},
}

func newEmbedCmd() *cobra.Command {
	var f embedFlags
	cmd := &cobra.Command{
		Use:   "embed MODEL ACTION ARGS... [flags]",
		Short: "Look at the token embedding space: vectors, nearest words, analogies, directions, context",
		Long: `Look at the model's token embedding matrix, where each token is a vector and
similar meanings lie close together. A WORD is encoded as it reads mid-text
(with the tokenizer's leading space, so "cat" finds the token " cat"); a word
of several tokens stands for the mean of their vectors, and the tokens used
are listed. Actions:

  vector WORD                   the word's vector: its norm, first and last values
  nearest WORD [-k 10]          the k vocabulary entries closest to WORD
          [--metric cosine|dot]
  analogy A B C [-k 5]          the entries closest to B - A + C (man king woman:
                                king - man + woman), leaving out A, B and C
  direction --from X --to Y WORD...
                                each WORD's dot product with Y - X, largest first
  context TEXT                  the hidden state of every position after the last
                                block, and for a token that occurs twice the
                                cosine of its two contextual vectors beside that
                                of its static embedding
  map WORD... [-o map.svg|map.png]
      [--pairs cat:cats,dog:dogs] the words projected to 2D (PCA): a picture with
      [--pca words|vocab]       a labelled point per word and an arrow per pair
                                (parallel arrows: parallel directions), or the
                                coordinates as text or json; the axes are fitted
                                to the words (default) or to the vocabulary

Every scan over the vocabulary is one matrix-vector product on the mapped
matrix, in the type it is stored in. -o json prints the same for scripts.
For map, -o may also name the picture to write, SVG or PNG by its extension.`,
		Example: `  llmap embed stories260K.llmap nearest cat -k 5
  llmap embed model.llmap analogy man king woman
  llmap embed model.llmap direction --from cat --to cats dog dogs tree trees
  llmap embed model.llmap context "The cat saw the cat" -o json
  llmap embed stories260K.llmap map he she him her Lily Tom --pairs he:she,him:her -o map.svg`,
		Args: embedArgs,
		RunE: func(cmd *cobra.Command, a []string) error {
			return runEmbed(cmd, a[0], a[1], a[2:], f)
		},
	}
	fl := cmd.Flags()
	fl.IntVarP(&f.k, "top", "k", 0, "entries to list (nearest: 10, analogy: 5)")
	fl.StringVar(&f.metric, "metric", "cosine", "nearest and analogy: cosine or dot")
	fl.StringVar(&f.from, "from", "", "direction: the word the direction starts at")
	fl.StringVar(&f.to, "to", "", "direction: the word the direction points to")
	fl.StringVarP(&f.output, "output", "o", "text", "output format: text or json; for map also a picture file, FILE.svg or FILE.png")
	fl.StringVar(&f.pairs, "pairs", "", "map: arrows FROM:TO, comma-separated (cat:cats,dog:dogs); their words join the map")
	fl.StringVar(&f.pca, "pca", "words", "map: fit the axes to the words shown (words) or to the whole vocabulary (vocab)")
	fl.IntVar(&f.threads, "threads", 0, threadsHelp)
	return cmd
}

// embedArgs checks MODEL, the action and the action's arguments.
func embedArgs(cmd *cobra.Command, a []string) error {
	if len(a) == 0 {
		return usagef("missing MODEL (usage: %s)", cmd.UseLine())
	}
	if len(a) == 1 {
		return usagef("missing ACTION: one of vector, nearest, analogy, direction, context, map (usage: %s)", cmd.UseLine())
	}
	act, ok := embedActions[a[1]]
	if !ok {
		return usagef("unknown action %q: want vector, nearest, analogy, direction, context or map", a[1])
	}
	rest := a[2:]
	usage := "llmap embed MODEL " + a[1] + " " + strings.Join(act.args, " ")
	if act.variadic {
		usage += "..."
	}
	if len(rest) < len(act.args) {
		return usagef("missing %s (usage: %s)", act.args[len(rest)], usage)
	}
	if len(rest) > len(act.args) && !act.variadic {
		return usagef("unexpected argument %q (usage: %s)", rest[len(act.args)], usage)
	}
	return nil
}

// check validates the flags for action before the model is opened.
func (f *embedFlags) check(cmd *cobra.Command, action string) error {
	changed := cmd.Flags().Changed
	only := map[string][]string{"top": {"nearest", "analogy"}, "metric": {"nearest", "analogy"}, "from": {"direction"}, "to": {"direction"},
		"pairs": {"map"}, "pca": {"map"}}
	for flag, actions := range only {
		if changed(flag) && !slices.Contains(actions, action) {
			return usagef("--%s does not apply to %s (only to %s)", flag, action, strings.Join(actions, " and "))
		}
	}
	if changed("top") && f.k < 1 {
		return usagef("-k/--top must be at least 1, got %d", f.k)
	}
	if _, err := explore.ParseMetric(f.metric); err != nil {
		return usagef("--metric: %v", err)
	}
	if action == "direction" && (f.from == "" || f.to == "") {
		return usagef("direction needs --from WORD and --to WORD")
	}
	if f.threads < 0 {
		return usagef("--threads must be 0 or more, got %d", f.threads)
	}
	if action == "map" {
		if _, err := explore.ParseBasis(f.pca); err != nil {
			return usagef("--pca: %v", err)
		}
		if _, err := parsePairs(f.pairs); err != nil {
			return err
		}
		if pictureKind(f.output) != "" {
			return nil
		}
		if f.output != "text" && f.output != "json" {
			return usagef("-o/--output must be text, json, or a picture file ending in .svg or .png, got %q", f.output)
		}
		return nil
	}
	return checkOutputFormat(f.output)
}

// pictureKind is "svg" or "png" for an -o naming a picture file, by its
// extension (any case), or "".
func pictureKind(o string) string {
	ext := strings.ToLower(filepath.Ext(o))
	if (ext == ".svg" || ext == ".png") && len(o) > len(ext) {
		return ext[1:]
	}
	return ""
}

// parsePairs parses --pairs: FROM:TO pairs separated by commas.
func parsePairs(s string) ([][2]string, error) {
	if s == "" {
		return nil, nil
	}
	var pairs [][2]string
	for _, p := range strings.Split(s, ",") {
		from, to, ok := strings.Cut(p, ":")
		if !ok || strings.TrimSpace(from) == "" || strings.TrimSpace(to) == "" || strings.Contains(to, ":") {
			return nil, usagef("--pairs: %q is not FROM:TO (want pairs like cat:cats,dog:dogs)", p)
		}
		pairs = append(pairs, [2]string{from, to})
	}
	return pairs, nil
}

// checkOutputFormat accepts the -o values.
func checkOutputFormat(o string) error {
	if o != "text" && o != "json" {
		return usagef("-o/--output must be text or json, got %q", o)
	}
	return nil
}

// writeJSON prints v indented, for scripts.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func runEmbed(cmd *cobra.Command, path, action string, rest []string, f embedFlags) error {
	if err := f.check(cmd, action); err != nil {
		return err
	}
	m, err := runtime.Open(path, runtime.Options{Threads: capThreads(cmd.ErrOrStderr(), f.threads)})
	if err != nil {
		return describeOpenError(path, err)
	}
	defer m.Close()
	k := f.k
	if k == 0 {
		k = map[string]int{"nearest": 10, "analogy": 5}[action]
	}
	if k > m.Config.VocabSize {
		return usagef("-k %d is larger than the vocabulary (%d tokens)", k, m.Config.VocabSize)
	}
	metric, _ := explore.ParseMetric(f.metric)
	x := &explorer{m: m, e: explore.NewEmbeddings(m), w: cmd.OutOrStdout(), errw: cmd.ErrOrStderr(), json: f.output == "json"}
	switch action {
	case "vector":
		return x.vector(rest[0])
	case "nearest":
		return x.nearest(rest[0], k, metric)
	case "analogy":
		return x.analogy(rest[0], rest[1], rest[2], k, metric)
	case "direction":
		return x.direction(f.from, f.to, rest)
	case "map":
		return x.drawMap(path, rest, f)
	default:
		return x.context(rest[0])
	}
}

// explorer prints the results of the embed actions.
type explorer struct {
	m    *runtime.Model
	e    *explore.Embeddings
	w    io.Writer
	errw io.Writer // where a picture's summary goes
	json bool
}

// jsonToken is a token in -o json output.
type jsonToken struct {
	ID    int    `json:"id"`
	Token string `json:"token"`
}

// jsonScore is a ranked vocabulary entry in -o json output.
type jsonScore struct {
	Rank  int     `json:"rank"`
	ID    int     `json:"id"`
	Token string  `json:"token"`
	Score float32 `json:"score"`
}

// jsonWord is a word and the tokens it stands for.
type jsonWord struct {
	Word   string      `json:"word"`
	Tokens []jsonToken `json:"tokens"`
}

func (x *explorer) tokens(ids []int) []jsonToken {
	out := make([]jsonToken, len(ids))
	for i, id := range ids {
		out[i] = jsonToken{id, tokenText(x.m, id)}
	}
	return out
}

func (x *explorer) word(w explore.Word) jsonWord { return jsonWord{w.Text, x.tokens(w.IDs)} }

func (x *explorer) scores(res []explore.TokenScore) []jsonScore {
	out := make([]jsonScore, len(res))
	for i, r := range res {
		out[i] = jsonScore{i + 1, r.ID, tokenText(x.m, r.ID), r.Score}
	}
	return out
}

// tokenText is the text a token stands for, as it prints in the middle of
// a text (a SentencePiece byte piece "<0x0A>" is "\n", GPT-2's "Ġcat" is
// " cat").
func tokenText(m *runtime.Model, id int) string { return string(m.Tokenizer.Piece(-1, id)) }

// label is a token as a table shows it: its text quoted, so spaces show.
func (x *explorer) label(id int) string { return strconv.Quote(tokenText(x.m, id)) }

// describe is a word with its tokens: `"cat" = 280 " c" + 294 "at"`.
func (x *explorer) describe(w explore.Word) string {
	parts := make([]string, len(w.IDs))
	for i, id := range w.IDs {
		parts[i] = fmt.Sprintf("%d %s", id, x.label(id))
	}
	return fmt.Sprintf("%q = %s", w.Text, strings.Join(parts, " + "))
}

// padRunes left-aligns s in a column of width runes.
func padRunes(s string, width int) string {
	if n := utf8.RuneCountInString(s); n < width {
		return s + strings.Repeat(" ", width-n)
	}
	return s
}

// labelWidth is the column width for the labels of ids (at least min).
func (x *explorer) labelWidth(ids []int, least int) int {
	w := least
	for _, id := range ids {
		w = max(w, utf8.RuneCountInString(x.label(id)))
	}
	return w
}

func (x *explorer) vector(word string) error {
	w, err := x.e.Word(word)
	if err != nil {
		return err
	}
	n := min(8, len(w.Vector))
	first, last := w.Vector[:n], w.Vector[len(w.Vector)-n:]
	norm := float32(math.Sqrt(float64(dot32(w.Vector, w.Vector))))
	if x.json {
		return writeJSON(x.w, struct {
			jsonWord
			Dim    int       `json:"dim"`
			Norm   float32   `json:"norm"`
			First  []float32 `json:"first"`
			Last   []float32 `json:"last"`
			Vector []float32 `json:"vector"`
		}{x.word(w), len(w.Vector), norm, first, last, w.Vector})
	}
	kind := "its token's embedding"
	if len(w.IDs) > 1 {
		kind = fmt.Sprintf("the mean of its %d tokens' embeddings", len(w.IDs))
	}
	fmt.Fprintf(x.w, "%s: %s\n", x.describe(w), kind)
	fmt.Fprintf(x.w, "dim %d, norm %.4f\n", len(w.Vector), norm)
	fmt.Fprintf(x.w, "first %d: %s\n", n, formatFloats(first))
	fmt.Fprintf(x.w, "last %d:  %s\n", n, formatFloats(last))
	return nil
}

func dot32(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func formatFloats(v []float32) string {
	parts := make([]string, len(v))
	for i, f := range v {
		parts[i] = fmt.Sprintf("%.4f", f)
	}
	return strings.Join(parts, " ")
}

// printScores prints ranked vocabulary entries as a table.
func (x *explorer) printScores(res []explore.TokenScore, metric explore.Metric) {
	ids := make([]int, len(res))
	for i, r := range res {
		ids[i] = r.ID
	}
	lw := x.labelWidth(ids, 5)
	fmt.Fprintf(x.w, "%4s  %6s  %s  %8s\n", "rank", "id", padRunes("token", lw), metric)
	for i, r := range res {
		fmt.Fprintf(x.w, "%4d  %6d  %s  %8.4f\n", i+1, r.ID, padRunes(x.label(r.ID), lw), r.Score)
	}
}

func (x *explorer) nearest(word string, k int, metric explore.Metric) error {
	w, err := x.e.Word(word)
	if err != nil {
		return err
	}
	res, err := x.e.Nearest(w.Vector, k, metric)
	if err != nil {
		return err
	}
	if x.json {
		return writeJSON(x.w, struct {
			Query   jsonWord    `json:"query"`
			Metric  string      `json:"metric"`
			Results []jsonScore `json:"results"`
		}{x.word(w), metric.String(), x.scores(res)})
	}
	fmt.Fprintf(x.w, "nearest to %s by %s, of %d tokens\n", x.describe(w), metric, x.e.VocabSize())
	x.printScores(res, metric)
	return nil
}

func (x *explorer) analogy(a, b, c string, k int, metric explore.Metric) error {
	res, ws, err := x.e.Analogy(a, b, c, k, metric)
	if err != nil {
		return err
	}
	if x.json {
		return writeJSON(x.w, struct {
			A       jsonWord    `json:"a"`
			B       jsonWord    `json:"b"`
			C       jsonWord    `json:"c"`
			Metric  string      `json:"metric"`
			Results []jsonScore `json:"results"`
		}{x.word(ws[0]), x.word(ws[1]), x.word(ws[2]), metric.String(), x.scores(res)})
	}
	fmt.Fprintf(x.w, "%q - %q + %q, nearest by %s (their tokens left out)\n", b, a, c, metric)
	for _, w := range []explore.Word{ws[1], ws[0], ws[2]} {
		fmt.Fprintf(x.w, "  %s\n", x.describe(w))
	}
	x.printScores(res, metric)
	return nil
}

func (x *explorer) direction(from, to string, words []string) error {
	res, d, err := x.e.Direction(from, to, words)
	if err != nil {
		return err
	}
	dn := float32(math.Sqrt(float64(dot32(d, d))))
	if x.json {
		type proj struct {
			Rank int `json:"rank"`
			jsonWord
			Dot    float32 `json:"dot"`
			Cosine float32 `json:"cosine"`
		}
		out := make([]proj, len(res))
		for i, p := range res {
			out[i] = proj{i + 1, x.word(p.Word), p.Dot, p.Cosine}
		}
		return writeJSON(x.w, struct {
			From          string  `json:"from"`
			To            string  `json:"to"`
			DirectionNorm float32 `json:"direction_norm"`
			Words         []proj  `json:"words"`
		}{from, to, dn, out})
	}
	fmt.Fprintf(x.w, "direction %q - %q (norm %.4f); each word's dot product with it, largest first\n", to, from, dn)
	descs := make([]string, len(res))
	ww := 4
	for i, p := range res {
		descs[i] = x.describe(p.Word)
		ww = max(ww, utf8.RuneCountInString(descs[i]))
	}
	fmt.Fprintf(x.w, "%4s  %s  %9s  %7s\n", "rank", padRunes("word", ww), "dot", "cosine")
	for i, p := range res {
		fmt.Fprintf(x.w, "%4d  %s  %9.4f  %7.4f\n", i+1, padRunes(descs[i], ww), p.Dot, p.Cosine)
	}
	return nil
}

func (x *explorer) context(text string) error {
	if text == "" {
		return usagef("TEXT is empty")
	}
	s, err := x.m.NewState(len(x.m.Tokenizer.Encode(text, true)))
	if err != nil {
		return err
	}
	cv, err := explore.Contextual(x.m, s, text)
	if err != nil {
		return err
	}
	reps, err := cv.Repeats(x.e)
	if err != nil {
		return err
	}
	if x.json {
		type position struct {
			Pos    int       `json:"pos"`
			ID     int       `json:"id"`
			Token  string    `json:"token"`
			Norm   float32   `json:"norm"`
			Next   jsonToken `json:"next"`
			Vector []float32 `json:"vector"`
		}
		type repeat struct {
			jsonToken
			First      int     `json:"first"`
			Pos        int     `json:"pos"`
			Contextual float32 `json:"contextual_cosine"`
			Static     float32 `json:"static_cosine"`
		}
		ps := make([]position, len(cv.Tokens))
		for i, id := range cv.Tokens {
			h := cv.Hidden[i]
			ps[i] = position{i, id, tokenText(x.m, id), float32(math.Sqrt(float64(dot32(h, h)))),
				jsonToken{cv.Next[i], tokenText(x.m, cv.Next[i])}, h}
		}
		rs := make([]repeat, len(reps))
		for i, r := range reps {
			rs[i] = repeat{jsonToken{r.ID, tokenText(x.m, r.ID)}, r.First, r.Pos, r.Contextual, r.Static}
		}
		return writeJSON(x.w, struct {
			Text      string     `json:"text"`
			Dim       int        `json:"dim"`
			Positions []position `json:"positions"`
			Repeats   []repeat   `json:"repeats"`
		}{text, x.m.Config.Dim, ps, rs})
	}
	fmt.Fprintf(x.w, "%q: %d positions; hidden state after the last block, dim %d\n",
		text, len(cv.Tokens), x.m.Config.Dim)
	all := append(append([]int(nil), cv.Tokens...), cv.Next...)
	lw := x.labelWidth(all, 5)
	n := min(4, x.m.Config.Dim)
	fmt.Fprintf(x.w, "%3s  %6s  %s  %8s  %s  %s\n", "pos", "id", padRunes("token", lw), "norm", padRunes(fmt.Sprintf("first %d values", n), 8*n-1), "most likely next")
	for i, id := range cv.Tokens {
		h := cv.Hidden[i]
		fmt.Fprintf(x.w, "%3d  %6d  %s  %8.4f  %s  %s\n", i, id, padRunes(x.label(id), lw),
			math.Sqrt(float64(dot32(h, h))), padRunes(signedFloats(h[:n]), 8*n-1), x.label(cv.Next[i]))
	}
	if len(reps) == 0 {
		fmt.Fprintln(x.w, "no token occurs twice: repeat a word to compare its contextual vectors")
		return nil
	}
	fmt.Fprintln(x.w, "tokens that occur twice: cosine similarity of the two vectors")
	fmt.Fprintf(x.w, "%s  %9s  %10s  %6s\n", padRunes("token", lw), "positions", "contextual", "static")
	for _, r := range reps {
		fmt.Fprintf(x.w, "%s  %9s  %10.4f  %6.4f\n", padRunes(x.label(r.ID), lw), fmt.Sprintf("%d, %d", r.First, r.Pos), r.Contextual, r.Static)
	}
	return nil
}

// signedFloats formats v in columns of 7 characters.
func signedFloats(v []float32) string {
	parts := make([]string, len(v))
	for i, f := range v {
		parts[i] = fmt.Sprintf("%7.3f", f)
	}
	return strings.Join(parts, " ")
}

// drawMap is the map action: the words and pairs projected to 2D, printed
// or drawn into the picture -o names.
func (x *explorer) drawMap(model string, words []string, f embedFlags) error {
	pairs, _ := parsePairs(f.pairs) // checked
	basis, _ := explore.ParseBasis(f.pca)
	kind := pictureKind(f.output)
	if kind != "" {
		if err := checkWritable("-o", f.output, filesRead(model)); err != nil {
			return err
		}
	}
	mp, err := x.e.Map(words, pairs, basis)
	if err != nil {
		return err
	}
	dirs := pairDirections(mp)
	if kind != "" {
		tmp, err := format.CreateTemp(f.output)
		if err != nil {
			return err
		}
		write := mp.WriteSVG
		if kind == "png" {
			write = mp.WritePNG
		}
		if err := write(tmp); err != nil {
			format.DropTemp(tmp)
			return fmt.Errorf("write %s: %w", f.output, err)
		}
		if err := format.CommitTemp(tmp, f.output); err != nil {
			return err
		}
		fmt.Fprintf(x.errw, "wrote %s: %d words, %d arrows; %s\n", f.output, len(mp.Words), len(mp.Pairs), mp.Title())
		return nil
	}
	if x.json {
		type point struct {
			jsonWord
			X float64 `json:"x"`
			Y float64 `json:"y"`
		}
		type pair struct {
			From   string   `json:"from"`
			To     string   `json:"to"`
			Cosine *float32 `json:"cosine_with_first,omitempty"`
		}
		out := struct {
			Basis     string     `json:"basis"`
			Fitted    int        `json:"fitted"`
			Explained [2]float64 `json:"explained"`
			Points    []point    `json:"points"`
			Pairs     []pair     `json:"pairs"`
		}{Basis: mp.Basis.String(), Fitted: mp.Fitted, Explained: mp.Explained, Points: []point{}, Pairs: []pair{}}
		for i, w := range mp.Words {
			out.Points = append(out.Points, point{x.word(w), mp.Points[i][0], mp.Points[i][1]})
		}
		for i, p := range mp.Pairs {
			pp := pair{From: mp.Words[p[0]].Text, To: mp.Words[p[1]].Text}
			if i > 0 {
				pp.Cosine = &dirs[i]
			}
			out.Pairs = append(out.Pairs, pp)
		}
		return writeJSON(x.w, out)
	}
	fmt.Fprintln(x.w, mp.Title())
	labels := make([]string, len(mp.Words))
	lw := len("word")
	for i, w := range mp.Words {
		labels[i] = x.describe(w)
		lw = max(lw, utf8.RuneCountInString(labels[i]))
	}
	fmt.Fprintf(x.w, "%s  %8s  %8s\n", padRunes("word", lw), "PC1", "PC2")
	for i := range mp.Words {
		fmt.Fprintf(x.w, "%s  %8.4f  %8.4f\n", padRunes(labels[i], lw), mp.Points[i][0], mp.Points[i][1])
	}
	if len(mp.Pairs) > 0 {
		fmt.Fprintln(x.w, "arrows (PC1, PC2 offsets); cosine of each direction with the first, in all dimensions")
		for i, p := range mp.Pairs {
			a, b := mp.Points[p[0]], mp.Points[p[1]]
			cos := ""
			if i > 0 {
				cos = fmt.Sprintf("  %7.4f", dirs[i])
			}
			fmt.Fprintf(x.w, "%q -> %q  %8.4f  %8.4f%s\n", mp.Words[p[0]].Text, mp.Words[p[1]].Text, b[0]-a[0], b[1]-a[1], cos)
		}
	}
	return nil
}

// pairDirections is, for each pair of mp, the cosine similarity of its
// direction (to - from, in every dimension) with the first pair's.
func pairDirections(mp *explore.Map) []float32 {
	out := make([]float32, len(mp.Pairs))
	var first []float32
	for i, p := range mp.Pairs {
		d := slices.Clone(mp.Words[p[1]].Vector)
		for j, v := range mp.Words[p[0]].Vector {
			d[j] -= v
		}
		if i == 0 {
			first = d
		}
		out[i] = explore.CosineSimilarity(first, d)
	}
	return out
}
