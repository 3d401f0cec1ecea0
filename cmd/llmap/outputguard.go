package main

import (
	"os"
	"path/filepath"
	"strings"
)

// An input is a file or directory a command reads, with the words that
// name it in an error ("the input file", "--tokenizer tok.bin").
type input struct {
	path string
	what string
}

// readSet is everything a command reads: files, and directories whose
// files it reads (a Hugging Face model, a tokenizer directory).
type readSet struct {
	files []input
	dirs  []input
}

// addFile adds a file the command reads; a directory is added with its
// files.
func (r *readSet) addFile(path, what string) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		r.addDir(path, what)
		return
	}
	r.files = append(r.files, input{path, what})
}

// addDir adds a directory and every file in it: a file of the directory
// may be a symlink to somewhere else (the Hugging Face cache links
// snapshots/*/model.safetensors into blobs/), and that target is read too.
func (r *readSet) addDir(dir, what string) {
	r.dirs = append(r.dirs, input{dir, what})
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		r.files = append(r.files, input{filepath.Join(dir, e.Name()), e.Name() + " of " + what})
	}
}

// filesRead is the readSet of the named files (empty names are skipped).
func filesRead(paths ...string) readSet {
	var r readSet
	for _, p := range paths {
		if p != "" {
			r.addFile(p, "the input "+p)
		}
	}
	return r
}

// checkWritable refuses an output path (named by flag, e.g. "-o") that
// would destroy something the command reads: a path that is, or resolves
// to (symlink, hard link, "./", another mount of the same file), one of
// the files read, or that lies inside one of the directories read. It
// also refuses a directory. A path that does not exist yet and is outside
// the directories read is fine.
func checkWritable(flag, out string, reads readSet) error {
	if fi, err := os.Stat(out); err == nil {
		if fi.IsDir() {
			return usagef("%s %s is a directory", flag, out)
		}
		for _, in := range reads.files {
			if ii, err := os.Stat(in.path); err == nil && os.SameFile(fi, ii) {
				return usagef("%s %s is %s; write the output elsewhere", flag, out, in.what)
			}
		}
	}
	if len(reads.dirs) == 0 {
		return nil
	}
	// The directory the output would be written in, with symlinks resolved,
	// and each of its ancestors: is any of them a directory read?
	parent, err := filepath.EvalSymlinks(filepath.Dir(out))
	if err != nil {
		return nil // the write itself reports a missing directory
	}
	if parent, err = filepath.Abs(parent); err != nil {
		return nil
	}
	for dir := parent; ; dir = filepath.Dir(dir) {
		if di, err := os.Stat(dir); err == nil {
			for _, in := range reads.dirs {
				if ii, err := os.Stat(in.path); err == nil && os.SameFile(di, ii) {
					return usagef("%s %s is inside %s; write the output elsewhere", flag, out, in.what)
				}
			}
		}
		if up := filepath.Dir(dir); up == dir || !strings.HasPrefix(dir, string(filepath.Separator)) {
			break
		}
	}
	return nil
}
