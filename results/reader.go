package results

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// MaxLineBytes is the longest trials.jsonl line a Reader accepts; a longer
// line is reported as a *SyntaxError and skipped.
const MaxLineBytes = 16 << 20

// SyntaxError is a malformed line in a records file. Reading goes on past
// it.
type SyntaxError struct {
	File string // file name as given to NewReader
	Line int    // 1-based line number
	Err  error
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }

func (e *SyntaxError) Unwrap() error { return e.Err }

// Pos returns the file name and line of the error.
func (e *SyntaxError) Pos() (file string, line int) { return e.File, e.Line }

// errLineTooLong is the cause of a SyntaxError for an over-long line.
var errLineTooLong = fmt.Errorf("line longer than %d bytes", MaxLineBytes)

// Reader reads records from a JSONL stream. Its API is modelled on
// bufio.Scanner:
//
//	r := results.NewReader(f, "trials.jsonl")
//	for r.Scan() {
//		rec, err := r.Record()
//		if err != nil { // a *SyntaxError: report it and go on
//			continue
//		}
//		...
//	}
//	if err := r.Err(); err != nil { ... } // I/O error
type Reader struct {
	br   *bufio.Reader
	file string
	line int
	rec  Record
	serr *SyntaxError
	err  error
	buf  []byte
}

// NewReader reads records from r; file names the source in errors.
func NewReader(r io.Reader, file string) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 64<<10), file: file}
}

// Scan advances to the next non-blank line, which holds either a record
// or a syntax error (see Record). It returns false at the end of input or
// on an I/O error (see Err).
func (r *Reader) Scan() bool {
	for r.err == nil {
		line, tooLong, err := r.readLine()
		if err != nil && !errors.Is(err, io.EOF) {
			r.err = fmt.Errorf("read %s: line %d: %w", r.file, r.line+1, err)
			return false
		}
		if len(line) == 0 && !tooLong && errors.Is(err, io.EOF) {
			r.err = io.EOF
			return false
		}
		r.line++
		if errors.Is(err, io.EOF) {
			r.err = io.EOF // this was the last, unterminated line
		}
		if tooLong {
			r.rec, r.serr = Record{}, &SyntaxError{File: r.file, Line: r.line, Err: errLineTooLong}
			return true
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		r.rec, r.serr = Record{}, nil
		if err := json.Unmarshal(line, &r.rec); err != nil {
			r.serr = &SyntaxError{File: r.file, Line: r.line, Err: err}
		} else if err := r.rec.Validate(); err != nil {
			r.serr = &SyntaxError{File: r.file, Line: r.line, Err: err}
		}
		if r.serr != nil {
			r.rec = Record{}
		}
		return true
	}
	return false
}

// readLine returns the next line without its newline. A line longer than
// MaxLineBytes is consumed and reported by tooLong.
func (r *Reader) readLine() (line []byte, tooLong bool, err error) {
	r.buf = r.buf[:0]
	for {
		chunk, err := r.br.ReadSlice('\n')
		if !tooLong {
			if len(r.buf)+len(chunk) > MaxLineBytes+1 {
				tooLong, r.buf = true, r.buf[:0]
			} else {
				r.buf = append(r.buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimSuffix(r.buf, []byte{'\n'}), tooLong, err
	}
}

// Record returns the record read by the last Scan, or a *SyntaxError if
// that line was malformed (bad JSON or a record that fails Validate).
func (r *Reader) Record() (Record, error) {
	if r.serr != nil {
		return Record{}, r.serr
	}
	return r.rec, nil
}

// Err returns the I/O error that stopped Scan, or nil at a clean end of
// input. Syntax errors are not reported here.
func (r *Reader) Err() error {
	if errors.Is(r.err, io.EOF) {
		return nil
	}
	return r.err
}

// ReadAll reads every record of a JSONL file. Malformed lines, a truncated
// last line from a killed run included, come back as warnings (each a
// *SyntaxError); err is for a file that cannot be read at all.
func ReadAll(path string) (recs []Record, warnings []error, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read records: %w", err)
	}
	defer f.Close()
	r := NewReader(f, path)
	for r.Scan() {
		rec, err := r.Record()
		if err != nil {
			warnings = append(warnings, err)
			continue
		}
		recs = append(recs, rec)
	}
	return recs, warnings, r.Err()
}
