package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// Writer appends records to a JSONL stream, one line per record. Each
// Append is a single write followed by fsync (when the destination can
// sync), so a process killed at any moment loses at most the record being
// written. It is safe for concurrent use.
type Writer struct {
	mu   sync.Mutex
	w    io.Writer
	name string
	buf  []byte
}

// syncer is what *os.File offers for durability.
type syncer interface{ Sync() error }

// NewWriter writes records to w; name is used in errors. If w has a
// Sync() error method it is called after every record.
func NewWriter(w io.Writer, name string) *Writer {
	return &Writer{w: w, name: name}
}

// OpenWriter opens (or creates) a JSONL file for appending. If the file
// ends in a partial line, left by a killed writer, a newline is written
// first so that the partial line stays one malformed line on its own and
// the next record starts clean.
func OpenWriter(path string) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open records: %w", err)
	}
	if err := terminateLastLine(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("open records %s: %w", path, err)
	}
	return NewWriter(f, path), nil
}

func terminateLastLine(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() == 0 {
		return nil
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], fi.Size()-1); err != nil {
		return err
	}
	if last[0] == '\n' {
		return nil
	}
	if _, err := f.Write([]byte{'\n'}); err != nil {
		return err
	}
	return f.Sync()
}

// Append writes rec as one line and makes it durable.
func (w *Writer) Append(rec Record) error {
	if err := rec.Validate(); err != nil {
		return fmt.Errorf("append record %q to %s: %w", rec.ID, w.name, err)
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("append record %q to %s: %w", rec.ID, w.name, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.w == nil {
		return fmt.Errorf("append record %q to %s: writer closed", rec.ID, w.name)
	}
	w.buf = append(append(w.buf[:0], line...), '\n')
	if _, err := w.w.Write(w.buf); err != nil {
		return fmt.Errorf("append record %q to %s: %w", rec.ID, w.name, err)
	}
	if s, ok := w.w.(syncer); ok {
		if err := s.Sync(); err != nil {
			return fmt.Errorf("append record %q to %s: sync: %w", rec.ID, w.name, err)
		}
	}
	return nil
}

// Close closes the destination if it is an io.Closer. Appending after
// Close is an error.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.w == nil {
		return errors.New("close records " + w.name + ": already closed")
	}
	c, ok := w.w.(io.Closer)
	w.w = nil
	if ok {
		if err := c.Close(); err != nil {
			return fmt.Errorf("close records %s: %w", w.name, err)
		}
	}
	return nil
}
