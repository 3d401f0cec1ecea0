// Package stories converts the shared stories260K checkpoint into a .llmap
// file for the tests of packages above format (runtime, explore, serve).
package stories

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/llmap/llmap/format/convert"
	"github.com/llmap/llmap/format/llama2c"
	"github.com/llmap/llmap/internal/testmodels"
)

// Convert writes stories260K as a .llmap file in a temporary directory of
// tb and returns its path. A missing model skips the test (fails it when
// CI=true), as testmodels.Path does.
func Convert(tb testing.TB) string {
	tb.Helper()
	ck, err := llama2c.Open(testmodels.Path(tb, "stories260K/stories260K.bin"))
	if err != nil {
		tb.Fatal(err)
	}
	defer ck.Close()
	data, err := os.ReadFile(testmodels.Path(tb, "stories260K/tok512.bin"))
	if err != nil {
		tb.Fatal(err)
	}
	tok, err := llama2c.ReadTokenizer(data, ck.Config.VocabSize)
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "stories260K.llmap")
	if err := convert.Write(path, convert.FromLlama2c(ck, tok, "stories260K"), convert.Options{Keep: true}); err != nil {
		tb.Fatal(err)
	}
	return path
}
