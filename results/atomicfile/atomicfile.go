// Package atomicfile is the project's one way to write a file: readers see
// the old file or the new one, never a partial file, and a failed write
// leaves the old file as it was and no temporary file behind.
//
// It is a leaf (it imports no project package), so every package that
// writes a file uses it: miner and validator state, run metadata, tables,
// plots, reports, profiles and splat files.
//
// The temporary file, its unique name and its cleanup come from
// github.com/google/renameio/v2; this package pins the temporary file to
// the destination's directory (renameio would otherwise use $TMPDIR when
// it is on the same file system), and fsyncs the directory after the
// rename so that the rename itself survives a crash.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/google/renameio/v2"
)

// WriteFile writes data to path atomically. A new file gets perm (less
// the umask); an existing file keeps its permissions. Errors name path.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return WriteWith(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteWith writes what write produces to path atomically: write streams
// into a temporary file in path's directory, which is fsynced, renamed
// over path, and the directory fsynced. If write or any step fails, the
// temporary file is removed and path is untouched. Errors name path.
func WriteWith(path string, perm fs.FileMode, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	t, err := renameio.NewPendingFile(path, renameio.WithTempDir(dir),
		renameio.WithPermissions(perm), renameio.WithExistingPermissions())
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer t.Cleanup() // a no-op once the rename is done
	bw := bufio.NewWriter(t)
	if err := write(bw); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := t.CloseAtomicallyReplace(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("write %s: sync directory: %w", path, err)
	}
	return nil
}

// syncDir fsyncs a directory, so that a rename in it is on disk. File
// systems that cannot fsync a directory (EINVAL, ENOTSUP) are not an
// error: the new file is in place, only its durability is weaker.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		return nil
	}
	return err
}
