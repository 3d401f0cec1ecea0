package safetensors_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/llmap/llmap/format/safetensors"
)

// writeIndex writes model.safetensors.index.json with the weight map.
func writeIndex(t *testing.T, dir string, weightMap map[string]string) {
	t.Helper()
	b, err := json.Marshal(map[string]any{"metadata": map[string]any{"total_size": 20}, "weight_map": weightMap})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, safetensors.IndexFile, b)
}

// shardedDir writes a two-shard checkpoint and returns its directory.
func shardedDir(t *testing.T) string {
	dir := t.TempDir()
	writeFile(t, dir, "model-00001-of-00002.safetensors", write([]tensor{
		{"a.weight", "F32", []int64{2, 1}, f32s(1, 2)},
		{"b.weight", "F16", []int64{1}, []byte{0, 0x3c}},
	}, map[string]string{"format": "pt"}))
	writeFile(t, dir, "model-00002-of-00002.safetensors", write([]tensor{
		{"c.weight", "F32", []int64{3}, f32s(3, 4, 5)},
	}, map[string]string{"format": "pt", "extra": "x"}))
	writeIndex(t, dir, map[string]string{
		"a.weight": "model-00001-of-00002.safetensors",
		"b.weight": "model-00001-of-00002.safetensors",
		"c.weight": "model-00002-of-00002.safetensors",
	})
	return dir
}

func TestSharded(t *testing.T) {
	dir := shardedDir(t)
	// A model.safetensors beside the index is ignored: the index wins.
	writeFile(t, dir, safetensors.SingleFile, write([]tensor{{"z", "F32", []int64{1}, f32s(9)}}, nil))
	s, err := safetensors.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var names []string
	for _, ti := range s.Tensors() {
		names = append(names, ti.Name)
	}
	if !slices.Equal(names, []string{"a.weight", "b.weight", "c.weight"}) || len(s.Shards()) != 2 {
		t.Fatalf("tensors %v, shards %v", names, s.Shards())
	}
	c, ok := s.Tensor("c.weight")
	if !ok {
		t.Fatal("c.weight missing")
	}
	d, err := s.TensorData(c)
	if err != nil || !slices.Equal(d, f32s(3, 4, 5)) {
		t.Errorf("c.weight data %v, %v", d, err)
	}
	a, _ := s.Tensor("a.weight")
	if d, err := s.TensorData(a); err != nil || !slices.Equal(d, f32s(1, 2)) {
		t.Errorf("a.weight data %v, %v", d, err)
	}
	if _, err := s.TensorData(&safetensors.TensorInfo{Name: "nope"}); err == nil {
		t.Error("TensorData of an unknown tensor succeeded")
	}
	if md := s.Metadata(); md["format"] != "pt" || md["extra"] != "x" {
		t.Errorf("metadata %v", md)
	}
}

func TestShardedCorrupt(t *testing.T) {
	one := "model-00001-of-00002.safetensors"
	two := "model-00002-of-00002.safetensors"
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"path traversal", func(t *testing.T, dir string) {
			writeIndex(t, dir, map[string]string{"a.weight": "../" + one, "b.weight": one, "c.weight": two})
		}, "not a plain file name"},
		{"absolute path", func(t *testing.T, dir string) {
			writeIndex(t, dir, map[string]string{"a.weight": filepath.Join(dir, one), "b.weight": one, "c.weight": two})
		}, "not a plain file name"},
		{"dot dot", func(t *testing.T, dir string) {
			writeIndex(t, dir, map[string]string{"a.weight": "..", "b.weight": one, "c.weight": two})
		}, "not a plain file name"},
		{"backslash", func(t *testing.T, dir string) {
			writeIndex(t, dir, map[string]string{"a.weight": `sub\` + one, "b.weight": one, "c.weight": two})
		}, "not a plain file name"},
		{"missing shard", func(t *testing.T, dir string) {
			writeIndex(t, dir, map[string]string{"a.weight": one, "b.weight": one, "c.weight": "model-00003.safetensors"})
		}, "no such file"},
		{"tensor not in its shard", func(t *testing.T, dir string) {
			writeIndex(t, dir, map[string]string{"a.weight": one, "b.weight": one, "c.weight": two, "d.weight": two})
		}, `"d.weight"`},
		{"tensor in another shard", func(t *testing.T, dir string) {
			writeIndex(t, dir, map[string]string{"a.weight": two, "b.weight": one, "c.weight": two})
		}, `"a.weight" is in shard`},
		{"unlisted tensor", func(t *testing.T, dir string) {
			writeIndex(t, dir, map[string]string{"a.weight": one, "c.weight": two})
		}, "does not list"},
		{"duplicate across shards", func(t *testing.T, dir string) {
			writeFile(t, dir, two, write([]tensor{
				{"a.weight", "F32", []int64{2, 1}, f32s(1, 2)},
				{"c.weight", "F32", []int64{3}, f32s(3, 4, 5)},
			}, nil))
		}, `"a.weight" is in both`},
		{"corrupt shard", func(t *testing.T, dir string) {
			writeFile(t, dir, two, rawFile(`{"c.weight":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}`, f32s(1, 2, 3)))
		}, two},
		{"bad index JSON", func(t *testing.T, dir string) {
			writeFile(t, dir, safetensors.IndexFile, []byte(`{"weight_map": [`))
		}, "bad JSON index"},
		{"empty weight map", func(t *testing.T, dir string) {
			writeFile(t, dir, safetensors.IndexFile, []byte(`{"weight_map": {}}`))
		}, "no weight_map"},
		{"weight map of numbers", func(t *testing.T, dir string) {
			writeFile(t, dir, safetensors.IndexFile, []byte(`{"weight_map": {"a.weight": 1}}`))
		}, "bad JSON index"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := shardedDir(t)
			c.setup(t, dir)
			s, err := safetensors.OpenDir(dir)
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			t.Log(err)
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want it to mention %s", err, c.want)
			}
			var se *safetensors.Error
			if c.name != "missing shard" && !errors.As(err, &se) {
				t.Errorf("not an *Error: %v", err)
			}
			if c.name == "missing shard" && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("missing shard: %v", err)
			}
		})
	}
}
