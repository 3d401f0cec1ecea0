package testmodels

import (
	"os"

	"golang.org/x/sys/unix"
)

// ReadPageByPage brings the file at path into the page cache one 4 KiB page
// at a time with readahead off, so that it is cached in 4 KiB folios: the
// state a file is left in after random reads or a partial eviction. Tests
// of the 2 MiB-page refold start from it.
func ReadPageByPage(path string) error {
	fd, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fd.Close()
	if err := unix.Fadvise(int(fd.Fd()), 0, 0, unix.FADV_RANDOM); err != nil {
		return err
	}
	buf := make([]byte, 4096)
	for off := int64(0); ; off += int64(len(buf)) {
		if _, err := fd.ReadAt(buf, off); err != nil {
			return nil // end of file
		}
	}
}
