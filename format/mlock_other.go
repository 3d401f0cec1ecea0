//go:build !unix

package format

// Mlock pins the file in memory on Unix systems; here it reports that it is
// not available.
func (f *File) Mlock() error { return notAvailable("mlock") }

// Munlock undoes Mlock on Unix systems; here it reports that it is not
// available.
func (f *File) Munlock() error { return notAvailable("munlock") }
