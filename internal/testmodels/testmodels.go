// Package testmodels finds the shared test models (../shared/models beside
// the repository, or $LLMAP_MODELS) for tests. A missing file skips the test
// on a developer machine and fails it when CI=true.
package testmodels

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// EnvVar overrides the directory that holds the shared models.
const EnvVar = "LLMAP_MODELS"

// Dir returns the shared models directory: $LLMAP_MODELS if set, otherwise
// ../shared/models relative to the repository root.
func Dir() string {
	if d := os.Getenv(EnvVar); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	return filepath.Join(root, "..", "shared", "models")
}

// Path returns the path of rel inside the models directory. If the file does
// not exist the test is skipped, or failed when the CI environment variable
// is "true".
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	p := filepath.Join(Dir(), filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("test model missing (CI=true): %v", err)
		}
		tb.Skipf("test model missing: %v (set %s to the shared models directory)", err, EnvVar)
	}
	return p
}
