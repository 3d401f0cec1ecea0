package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The browser tests drive the page in headless Chromium (Debian's
// chromium package; make test installs it) against a server on loopback
// serving stories260K, and check what the page shows against the /api
// responses. Without Chromium they are skipped, or fail when CI=true.
// LLMAP_SCREENSHOTS names a directory to keep the screenshots in (make
// screenshots: docs/explorer); otherwise they go to a temporary directory.

// chromiumPath finds the browser: $LLMAP_CHROMIUM, or chromium,
// chromium-browser or google-chrome on PATH.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("LLMAP_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium not found (CI=true): install Debian's chromium package (make test does) or set LLMAP_CHROMIUM")
	}
	t.Skip("Chromium not found: apt-get install chromium, or set LLMAP_CHROMIUM")
	return ""
}

// browser starts headless Chromium with a fresh profile and returns a tab
// context; the console messages of type error, and exceptions, are
// collected into *errs. Failing to start fails the test (skipping would
// hide a broken CI).
func browser(t *testing.T) (ctx context.Context, errs func() []string) {
	path := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	start := time.Now()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	t.Logf("Chromium started in %v", time.Since(start).Round(time.Millisecond))
	var (
		mu   sync.Mutex
		list []string
		done = make(chan struct{})
	)
	msgs := chromedp.Console(ctx)
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == "error" {
				mu.Lock()
				list = append(list, fmt.Sprintf("%s %s:%d: %s", m.Type, m.URL, m.Line+1, m.Text))
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), list...)
	}
}

// screenshots returns the directory to write screenshots to.
func screenshots(t *testing.T) string {
	if d := os.Getenv("LLMAP_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func shoot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// postJSON posts body to the server and decodes the answer into v.
func postJSON(t *testing.T, url string, body, v any) {
	t.Helper()
	b, _ := json.Marshal(body)
	res, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("%s: %s", url, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// bar is one row of the next-token view as the page shows it.
type bar struct {
	ID   int     `json:"id"`
	Prob float64 `json:"prob"`
	Pct  string  `json:"pct"`
}

// readBars reads the bars: the tokens' rows, and the "other tokens" row.
func readBars(t *testing.T, ctx context.Context) (bars []bar, other bar) {
	t.Helper()
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]bar](`[...document.querySelectorAll("#next-bars .bar-row")].map(r => ({
		id: r.dataset.id === undefined ? -1 : Number(r.dataset.id),
		prob: Number(r.dataset.prob),
		pct: r.querySelector(".pct").textContent }))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 2 || rows[len(rows)-1].ID != -1 {
		t.Fatalf("bars %+v", rows)
	}
	return rows[:len(rows)-1], rows[len(rows)-1]
}

// nextAPI is the /api/next answer.
type nextAPI struct {
	Top []struct {
		ID   int     `json:"id"`
		Prob float64 `json:"prob"`
	} `json:"top"`
}

func TestBrowser(t *testing.T) {
	base := startServer(t)
	ctx, consoleErrors := browser(t)
	shots := screenshots(t)
	step := func(name string, f func(t *testing.T)) {
		start := time.Now()
		t.Run(name, f)
		t.Logf("%s: %v", name, time.Since(start).Round(time.Millisecond))
	}
	wait := func(t *testing.T, sel string) {
		t.Helper()
		tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(tctx, chromedp.WaitVisible(sel)); err != nil {
			t.Fatalf("waiting for %s: %v", sel, err)
		}
	}
	const prompt = "Once upon a time, there was a little"

	step("next token", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#next")); err != nil {
			t.Fatal(err)
		}
		wait(t, "#next-bars .bar-row[data-id]")
		check := func(temp float64) []bar {
			t.Helper()
			bars, other := readBars(t, ctx)
			var api nextAPI
			postJSON(t, base+"/api/next", map[string]any{"prompt": prompt, "top_k": 10, "temperature": temp}, &api)
			if len(bars) != len(api.Top) {
				t.Fatalf("T=%g: %d bars, the API has %d", temp, len(bars), len(api.Top))
			}
			sum, pctSum := other.Prob, parsePct(t, other.Pct)
			for i, b := range bars {
				if b.ID != api.Top[i].ID || math.Abs(b.Prob-api.Top[i].Prob) > 2e-6 {
					t.Errorf("T=%g: bar %d is token %d at %.7f, the API says %d at %.7f", temp, i, b.ID, b.Prob, api.Top[i].ID, api.Top[i].Prob)
				}
				sum += b.Prob
				pctSum += parsePct(t, b.Pct)
			}
			if math.Abs(sum-1) > 1e-9 || math.Abs(pctSum-100) > 0.05*float64(len(bars)+1) {
				t.Errorf("T=%g: probabilities sum to %.9f, percentages to %.2f", temp, sum, pctSum)
			}
			return bars
		}
		warm := check(1)
		// the slider moved by the keyboard, as a user can: Home is its
		// minimum (0), End its maximum (2)
		if err := chromedp.Do(ctx, chromedp.Focus("#next-temp"), chromedp.KeyEvent(kb.Home)); err != nil {
			t.Fatal(err)
		}
		cold := check(0)
		if cold[0].Prob != 1 || cold[0].Pct != "100.0%" {
			t.Errorf("T=0: the first bar is %+v, want 100%%", cold[0])
		}
		for _, b := range cold[1:] {
			if b.Prob != 0 {
				t.Errorf("T=0: bar %+v is not 0", b)
			}
		}
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.End)); err != nil {
			t.Fatal(err)
		}
		hot := check(2)
		if !(hot[0].Prob < warm[0].Prob && hot[len(hot)-1].Prob > warm[len(warm)-1].Prob &&
			hot[0].Prob/hot[len(hot)-1].Prob < warm[0].Prob/warm[len(warm)-1].Prob) {
			t.Errorf("T=2 does not flatten the bars: first/last %g/%g, at T=1 %g/%g",
				hot[0].Prob, hot[len(hot)-1].Prob, warm[0].Prob, warm[len(warm)-1].Prob)
		}
		if err := chromedp.Do(ctx, chromedp.Focus("#next-temp"), chromedp.KeyEvent(kb.Home)); err != nil {
			t.Fatal(err)
		}
		for range 100 { // back to 1.00 in steps of 0.01
			if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.ArrowRight)); err != nil {
				t.Fatal(err)
			}
		}
		shoot(t, ctx, shots, "next.png")
		// clicking the most likely token appends it and shows the next
		// distribution
		first, err := chromedp.Run(ctx, chromedp.Text("#next-bars .bar-row[data-id] button"))
		if err != nil {
			t.Fatal(err)
		}
		var tok string
		if err := json.Unmarshal([]byte(first), &tok); err != nil {
			t.Fatalf("button %q: %v", first, err)
		}
		n := countNodes(t, ctx, "#next-prompt-tokens .tok")
		if err := chromedp.Do(ctx, chromedp.Click("#next-bars .bar-row[data-id] button")); err != nil {
			t.Fatal(err)
		}
		pollTrue(t, ctx, fmt.Sprintf(`document.querySelectorAll("#next-prompt-tokens .tok").length === %d`, n+1))
		got, err := chromedp.Run(ctx, chromedp.Value("#next-prompt"))
		if err != nil || got != prompt+tok {
			t.Errorf("prompt after the click %q (%v), want %q", got, err, prompt+tok)
		}
	})

	step("embedding map", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#map")); err != nil {
			t.Fatal(err)
		}
		wait(t, "#map-picture svg circle.point")
		wait(t, "#nearest-list li")
		wait(t, "#analogy-list li")
		words, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#map-picture svg circle.point")].map(c => c.getAttribute("data-word"))`))
		if err != nil {
			t.Fatal(err)
		}
		want := "Lily Tom Timmy cat dog bird happy sad big small he she him her"
		if strings.Join(words, " ") != want {
			t.Errorf("points %q, want one per word: %q", words, want)
		}
		arrows := countNodes(t, ctx, "#map-picture svg g.arrow")
		if arrows != 2 {
			t.Errorf("%d arrows, want 2", arrows)
		}
		nearest, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#nearest-list li")].map(li => li.dataset.token)`))
		if err != nil || len(nearest) != 10 || nearest[0] != " Lily" {
			t.Errorf("nearest to Lily: %q (%v), want \" Lily\" first", nearest, err)
		}
		shoot(t, ctx, shots, "map.png")
	})

	step("context", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#context")); err != nil {
			t.Fatal(err)
		}
		wait(t, "#context-strip .cell")
		wait(t, "#context-chart svg polyline.chosen")
		var api struct {
			Position  int           `json:"position"`
			Attention [][][]float64 `json:"attention"`
		}
		postJSON(t, base+"/api/context", map[string]any{"text": "Lily saw a cat. Lily liked the cat."}, &api)
		weights, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`[...document.querySelectorAll("#context-strip .cell")].map(c => Number(c.dataset.weight))`))
		if err != nil {
			t.Fatal(err)
		}
		wantW := api.Attention[len(api.Attention)-1][0] // the last block, head 1: the view's default
		if len(weights) != api.Position+1 || len(wantW) != len(weights) {
			t.Fatalf("%d cells, want %d", len(weights), api.Position+1)
		}
		sum := 0.0
		for i, w := range weights {
			sum += w
			if math.Abs(w-wantW[i]) > 1e-6 {
				t.Errorf("cell %d: %g, the API says %g", i, w, wantW[i])
			}
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Errorf("attention weights sum to %g", sum)
		}
		// choosing another token runs it again with that position
		if err := chromedp.Do(ctx, chromedp.Click(`#context-tokens .tok[data-pos="7"]`)); err != nil {
			t.Fatal(err)
		}
		pollTrue(t, ctx, `document.querySelectorAll("#context-strip .cell").length === 8`)
		shoot(t, ctx, shots, "context.png")
	})

	step("chat", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#chat"),
			chromedp.WaitVisible("#chat-input"),
			chromedp.SendKeys("#chat-input", "Tell me a story about a cat."),
			chromedp.Click("#chat-send")); err != nil {
			t.Fatal(err)
		}
		wait(t, `.msg.assistant[data-done="true"]`)
		type reply struct {
			Text   string `json:"text"`
			Chunks int    `json:"chunks"`
		}
		r, err := chromedp.Run(ctx, chromedp.Evaluate[reply](`(() => { const m = document.querySelector(".msg.assistant");
			return { text: m.textContent, chunks: Number(m.dataset.chunks || 0) }; })()`))
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(r.Text) == "" || r.Chunks < 2 {
			t.Errorf("reply %q in %d chunks, want a streamed reply", r.Text, r.Chunks)
		}
		shoot(t, ctx, shots, "chat.png")
	})

	step("phone", func(t *testing.T) {
		const phoneWidth = 390 // CSS pixels, as an iPhone 12-15
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(phoneWidth, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile)); err != nil {
			t.Fatal(err)
		}
		for _, view := range []string{"next", "map", "context"} {
			if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#"+view), chromedp.Reload()); err != nil {
				t.Fatal(err)
			}
			wait(t, map[string]string{"next": "#next-bars .bar-row[data-id]", "map": "#map-picture svg circle.point", "context": "#context-strip .cell"}[view])
			// nothing wider than the screen: no sideways scrolling
			// (a mobile browser widens its layout viewport to the content,
			// so the page is measured against the screen, not innerWidth)
			width, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.documentElement.scrollWidth`))
			if err != nil {
				t.Fatal(err)
			}
			if width > phoneWidth {
				t.Errorf("%s: the page is %g px wide on a %d px screen", view, width, phoneWidth)
			}
			shoot(t, ctx, shots, "phone-"+view+".png")
		}
	})

	if errs := consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
	t.Logf("screenshots in %s", shots)
}

func parsePct(t *testing.T, s string) float64 {
	t.Helper()
	var f float64
	if _, err := fmt.Sscanf(s, "%f%%", &f); err != nil {
		t.Fatalf("percentage %q: %v", s, err)
	}
	return f
}

func countNodes(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// pollTrue waits until the JavaScript expression is true.
func pollTrue(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("waiting for %s: %v", expr, err)
	}
}
