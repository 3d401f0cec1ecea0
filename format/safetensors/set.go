package safetensors

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

const (
	// SingleFile is the name of an unsharded checkpoint in a model directory.
	SingleFile = "model.safetensors"
	// IndexFile is the name of the index of a sharded checkpoint.
	IndexFile = "model.safetensors.index.json"
	// maxIndexSize bounds the index file read into memory.
	maxIndexSize = 100 << 20
)

// Set is a checkpoint of one or more safetensors files seen as one set of
// tensors.
type Set struct {
	shards  []string         // file names, sorted
	files   []*File          // parallel to shards
	tensors []TensorInfo     // every tensor, sorted by name
	byName  map[string]int   // name -> index in tensors
	shardOf map[string]*File // name -> file holding it
}

// OpenDir opens the checkpoint in dir: the shards listed by
// model.safetensors.index.json if it exists, otherwise model.safetensors.
//
// The index is {"weight_map": {"tensor name": "shard file name", ...}}. Shard
// names must be plain file names inside dir (no path separators, "." or
// ".."). The index and the shards must agree exactly: every listed tensor is
// in its shard, every tensor of a shard is listed for that shard, and no
// tensor is in two shards.
func OpenDir(dir string) (*Set, error) {
	indexPath := filepath.Join(dir, IndexFile)
	raw, err := readIndex(indexPath)
	if errors.Is(err, fs.ErrNotExist) {
		f, err := Open(filepath.Join(dir, SingleFile))
		if err != nil {
			return nil, err
		}
		return newSet([]string{SingleFile}, []*File{f}), nil
	}
	if err != nil {
		return nil, err
	}
	var index struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(raw, &index); err != nil {
		return nil, fmt.Errorf("%s: %w", indexPath, errorf(0, ErrInvalid, "bad JSON index: %v", err))
	}
	if len(index.WeightMap) == 0 {
		return nil, fmt.Errorf("%s: %w", indexPath, errorf(0, ErrInvalid, "index has no weight_map"))
	}
	shardSet := make(map[string]bool)
	for name, shard := range index.WeightMap {
		if !plainFileName(shard) {
			return nil, fmt.Errorf("%s: %w", indexPath, errorf(0, ErrInvalid, "tensor %q maps to %q, which is not a plain file name", name, shard))
		}
		shardSet[shard] = true
	}
	shards := slices.Sorted(maps.Keys(shardSet))
	files := make([]*File, 0, len(shards))
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	for _, shard := range shards {
		f, err := Open(filepath.Join(dir, shard))
		if err != nil {
			closeAll()
			return nil, err
		}
		files = append(files, f)
	}
	s := newSet(shards, files)
	if err := s.checkIndex(index.WeightMap); err != nil {
		closeAll()
		return nil, fmt.Errorf("%s: %w", indexPath, err)
	}
	return s, nil
}

// readIndex reads the index file, refusing one larger than maxIndexSize.
func readIndex(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > maxIndexSize {
		return nil, fmt.Errorf("%s: %w", path, errorf(0, ErrInvalid, "index of %d bytes exceeds the limit of %d", st.Size(), maxIndexSize))
	}
	return os.ReadFile(path)
}

// plainFileName reports whether name is a file name without any directory.
func plainFileName(name string) bool {
	return name != "" && name != "." && name != ".." &&
		!strings.ContainsAny(name, `/\:`+"\x00") && filepath.IsLocal(name)
}

// newSet gathers the tensors of files; duplicates are found by checkIndex.
func newSet(shards []string, files []*File) *Set {
	s := &Set{shards: shards, files: files, byName: make(map[string]int), shardOf: make(map[string]*File)}
	for _, f := range files {
		s.tensors = append(s.tensors, f.tensors...)
	}
	slices.SortStableFunc(s.tensors, func(a, b TensorInfo) int { return strings.Compare(a.Name, b.Name) })
	for i, t := range s.tensors {
		s.byName[t.Name] = i
	}
	for _, f := range files {
		for _, t := range f.tensors {
			s.shardOf[t.Name] = f
		}
	}
	return s
}

// checkIndex verifies that the shards hold exactly the tensors of the weight
// map, each in the shard the map names and in no other.
func (s *Set) checkIndex(weightMap map[string]string) error {
	where := make(map[string]string) // tensor -> shard that holds it
	for i, f := range s.files {
		for _, t := range f.tensors {
			if other, dup := where[t.Name]; dup {
				return errorf(0, ErrInvalid, "tensor %q is in both %s and %s", t.Name, other, s.shards[i])
			}
			where[t.Name] = s.shards[i]
			if want, ok := weightMap[t.Name]; !ok {
				return errorf(0, ErrInvalid, "shard %s holds tensor %q, which the index does not list", s.shards[i], t.Name)
			} else if want != s.shards[i] {
				return errorf(0, ErrInvalid, "tensor %q is in shard %s, but the index says %s", t.Name, s.shards[i], want)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(weightMap)) {
		if _, ok := where[name]; !ok {
			return errorf(0, ErrInvalid, "index maps tensor %q to %s, which does not hold it", name, weightMap[name])
		}
	}
	return nil
}

// Shards returns the file names of the shards, sorted.
func (s *Set) Shards() []string { return slices.Clone(s.shards) }

// Tensors returns the tensor infos of all shards, sorted by name.
func (s *Set) Tensors() []TensorInfo { return slices.Clone(s.tensors) }

// Tensor returns the tensor called name.
func (s *Set) Tensor(name string) (*TensorInfo, bool) {
	i, ok := s.byName[name]
	if !ok {
		return nil, false
	}
	return &s.tensors[i], true
}

// TensorData returns the bytes of t's data from the shard that holds the
// tensor named t.Name (see [File.TensorData]).
func (s *Set) TensorData(t *TensorInfo) ([]byte, error) {
	f, ok := s.shardOf[t.Name]
	if !ok {
		return nil, fmt.Errorf("safetensors: no tensor %q in the set", t.Name)
	}
	return f.TensorData(t)
}

// Metadata returns the __metadata__ of all shards merged; where shards
// disagree on a key, the first shard in name order wins.
func (s *Set) Metadata() map[string]string {
	var md map[string]string
	for i := len(s.files) - 1; i >= 0; i-- {
		if m := s.files[i].metadata; m != nil {
			if md == nil {
				md = make(map[string]string)
			}
			maps.Copy(md, m)
		}
	}
	return md
}

// Close unmaps every shard and returns the first error.
func (s *Set) Close() error {
	var first error
	for _, f := range s.files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
