package results

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File names inside a run directory.
const (
	MetaFile   = "run.json"
	TrialsFile = "trials.jsonl"
)

// runIDTime is the layout of the timestamp that starts every run id.
const runIDTime = "20060102-150405"

// maxIDTries bounds how many random suffixes Create tries after a clash.
const maxIDTries = 16

// Run is one run directory under the output root.
type Run struct {
	dir string
}

// Create makes a new run directory under out (created if missing) and
// returns it. The run id is the UTC time of now and the command,
// "20261125-203000-tune"; when that directory already exists a short random
// suffix is added ("20261125-203000-tune-3fa2c1"). The directory is made
// with a single mkdir, so two processes never share one.
func Create(out, command string, now time.Time) (*Run, error) {
	name, err := cleanCommand(command)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("create run: output directory: %w", err)
	}
	base := now.UTC().Format(runIDTime) + "-" + name
	id := base
	for range maxIDTries {
		dir := filepath.Join(out, id)
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return &Run{dir: dir}, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("create run %s: %w", dir, err)
		}
		suffix, err := randomSuffix()
		if err != nil {
			return nil, fmt.Errorf("create run %s: %w", dir, err)
		}
		id = base + "-" + suffix
	}
	return nil, fmt.Errorf("create run in %s: %d run ids starting %q already exist", out, maxIDTries, base)
}

// Open reopens an existing run directory, for example to resume a sweep:
// records already in its trials.jsonl stay, new ones are appended.
func Open(dir string) (*Run, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("open run: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("open run %s: not a directory", dir)
	}
	return &Run{dir: filepath.Clean(dir)}, nil
}

// Dir is the run directory.
func (r *Run) Dir() string { return r.dir }

// ID is the run id, the last element of the run directory.
func (r *Run) ID() string { return filepath.Base(r.dir) }

// Path joins name (slash-separated, relative) onto the run directory.
func (r *Run) Path(name string) string { return filepath.Join(r.dir, filepath.FromSlash(name)) }

// WriteMeta writes m to run.json atomically: a reader sees the old file or
// the new one, never a torn one.
func (r *Run) WriteMeta(m Meta) error { return WriteMetaFile(r.Path(MetaFile), m) }

// ReadMeta reads run.json, refusing a schema version this build does not read.
func (r *Run) ReadMeta() (Meta, error) { return ReadMetaFile(r.Path(MetaFile)) }

// AppendRecords opens trials.jsonl for appending (creating it if missing).
func (r *Run) AppendRecords() (*Writer, error) { return OpenWriter(r.Path(TrialsFile)) }

// ReadRecords reads every record in trials.jsonl (a missing file is no
// records); malformed lines come back as warnings.
func (r *Run) ReadRecords() ([]Record, []error, error) {
	recs, warns, err := ReadAll(r.Path(TrialsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	return recs, warns, err
}

// cleanCommand turns a command name into something safe inside a file name.
func cleanCommand(command string) (string, error) {
	var b strings.Builder
	for _, c := range strings.ToLower(strings.TrimSpace(command)) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_':
			b.WriteRune(c)
		default:
			b.WriteByte('-')
		}
	}
	name := strings.Trim(b.String(), "-")
	if name == "" {
		return "", fmt.Errorf("create run: command %q has no usable characters", command)
	}
	return name, nil
}

func randomSuffix() (string, error) {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}
