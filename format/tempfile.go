package format

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sync"
)

// Temporary files.
//
// A file is written under a temporary name beside its target,
// ".NAME.tmp-XXXXXXXX" (eight hex digits), and renamed onto the target
// when complete, so the target only ever holds a whole file. While it is
// written the temporary file is held under an exclusive flock(2), which the
// kernel drops when the process ends, however it ends: a later run can tell
// a live temporary file (locked) from one an interrupted run left behind.
// This process's open temporary files are also listed here, so that a
// signal handler can remove them before the process exits (RemoveTemps).

var temps struct {
	sync.Mutex
	open map[string]*os.File // path -> file, while written
}

// tempPattern matches the names CreateTemp gives.
var tempPattern = regexp.MustCompile(`^\..+\.tmp-[0-9a-f]{8}$`)

// CreateTemp creates and locks an empty temporary file for path in path's
// directory, with the permissions os.Create would give. Finish it with
// CommitTemp or DropTemp. Errors name path, not the temporary name.
func CreateTemp(path string) (*os.File, error) {
	dir, base := filepath.Split(path)
	for range 100 {
		tmp := filepath.Join(dir, fmt.Sprintf(".%s.tmp-%08x", base, rand.Uint32()))
		f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", path, unwrapPath(err))
		}
		if err := lockTemp(f); err != nil {
			f.Close()
			os.Remove(tmp)
			return nil, fmt.Errorf("create %s: lock: %w", path, err)
		}
		temps.Lock()
		if temps.open == nil {
			temps.open = map[string]*os.File{}
		}
		temps.open[tmp] = f
		temps.Unlock()
		return f, nil
	}
	return nil, fmt.Errorf("create %s: no free temporary name in %q", path, dir)
}

// CheckSpace refuses, before anything is written, a file of size bytes
// that the file system holding path's directory has no room for: a write
// that would fail after minutes (or hours, for a mistyped shape) fails at
// once. A file system that cannot tell its free space (no blocks: /proc,
// some FUSE mounts) is not refused.
func CheckSpace(path string, size int64) error {
	free, ok := freeSpace(filepath.Dir(path))
	if ok && size > free {
		return fmt.Errorf("create %s: the file needs %s, and %s has %s free", path, gib(size), filepath.Dir(path), gib(free))
	}
	return nil
}

// gib formats a byte count in GiB (MiB below one GiB).
func gib(n int64) string {
	if n < 1<<30 {
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}

// CommitTemp syncs the temporary file f (from CreateTemp), renames it onto
// path, closes it and syncs the directory. On failure f is removed and
// path left as it was. Errors name path, not the temporary name.
func CommitTemp(f *os.File, path string) error {
	if err := f.Sync(); err != nil {
		DropTemp(f)
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	// Renamed while still open and locked, so that no other process can
	// take it for a leftover between the rename and the close; under the
	// list's lock, so that RemoveTemps sees it either before or after.
	temps.Lock()
	err := os.Rename(f.Name(), path)
	if err == nil {
		delete(temps.open, f.Name())
	}
	temps.Unlock()
	if err != nil {
		DropTemp(f)
		return fmt.Errorf("rename onto %s: %w", path, unwrapPath(err))
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, unwrapPath(err))
	}
	// The file is complete and in place; a failed directory sync only means
	// the rename might not survive a crash.
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("sync the directory of %s: %w", path, unwrapPath(err))
	}
	return nil
}

// DropTemp removes and closes the temporary file f. It is safe to call
// after RemoveTemps has already removed it.
func DropTemp(f *os.File) {
	temps.Lock()
	if _, ok := temps.open[f.Name()]; ok {
		os.Remove(f.Name())
		delete(temps.open, f.Name())
	}
	temps.Unlock()
	f.Close()
}

// RemoveTemps removes every temporary file this process is writing and
// returns their paths. It is meant for a signal handler about to exit: the files stay
// open, so writers still running see their writes succeed into unlinked
// files rather than fail half-way.
func RemoveTemps() []string {
	temps.Lock()
	defer temps.Unlock()
	var removed []string
	for tmp := range temps.open {
		if os.Remove(tmp) == nil {
			removed = append(removed, tmp)
		}
		delete(temps.open, tmp)
	}
	return removed
}

// StaleTemp is a temporary file that an earlier, interrupted run left.
type StaleTemp struct {
	Path    string
	Size    int64
	Removed bool // it was a .llmap file and nothing held it, so it was removed
}

// CleanStaleTemps looks in dir for temporary files that no live process
// holds (see CreateTemp). Those that start with the .llmap magic are
// provably an unfinished .llmap file and are removed; others (llmap synth
// --format llama2c writes files without a magic) are only reported.
// Temporary files being written, by this process or another, are left
// alone and not reported.
func CleanStaleTemps(dir string) ([]StaleTemp, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var stale []StaleTemp
	for _, e := range entries {
		if !e.Type().IsRegular() || !tempPattern.MatchString(e.Name()) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		temps.Lock()
		_, ours := temps.open[path]
		temps.Unlock()
		if ours {
			continue
		}
		if st, ok := checkStale(path); ok {
			stale = append(stale, st)
		}
	}
	return stale, nil
}

// checkStale locks the temporary file at path; if no one else holds it, it
// is stale, and removed if it starts with the .llmap magic.
func checkStale(path string) (StaleTemp, bool) {
	f, err := os.Open(path)
	if err != nil {
		return StaleTemp{}, false
	}
	defer f.Close()
	if lockTemp(f) != nil {
		return StaleTemp{}, false // being written
	}
	st := StaleTemp{Path: path}
	if fi, err := f.Stat(); err == nil {
		st.Size = fi.Size()
	}
	head := make([]byte, len(Magic))
	if _, err := io.ReadFull(f, head); err == nil && bytes.Equal(head, []byte(Magic)) {
		// Removed while locked: a writer that opened it since would have
		// found it locked (and nothing but CreateTemp opens these names).
		st.Removed = os.Remove(path) == nil
	}
	return st, true
}

// unwrapPath drops an *os.PathError's operation and path (a temporary
// name the user never gave), keeping the cause.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
