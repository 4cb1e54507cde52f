package serve

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/splatbench/splatbench/pipeline/imagefile"
)

// Form fields of the generation APIs (docs/protocol.md §5.1, §5.2).
const (
	FieldPrompt = "prompt"
	FieldImage  = "prompt_image_file"
	FieldSeed   = "seed"
)

// RandomSeed asks for a random seed, as the 404-base-miner's default −1
// does; the seed drawn is in [0, MaxRandomSeed] and reported in X-Seed.
const (
	RandomSeed    = -1
	MaxRandomSeed = 10000
)

// inputError is bad client input: an HTTP status (4xx) and a message
// naming the field at fault.
type inputError struct {
	code int
	msg  string
}

func (e *inputError) Error() string { return e.msg }

func badInput(code int, format string, a ...any) *inputError {
	return &inputError{code: code, msg: fmt.Sprintf(format, a...)}
}

// ParseSeed parses the seed form field: empty or −1 means random, any
// other value must be a non-negative base-10 int64.
func ParseSeed(v string) (seed int64, random bool, err error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, true, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("form field %s = %q: not an integer", FieldSeed, clip(v))
	}
	switch {
	case n == RandomSeed:
		return 0, true, nil
	case n < 0:
		return 0, false, fmt.Errorf("form field %s = %d: must be ≥ 0, or %d for a random seed", FieldSeed, n, RandomSeed)
	}
	return n, false, nil
}

// seedFrom resolves a parsed seed, drawing a random one when asked.
func seedFrom(v string) (int64, error) {
	seed, random, err := ParseSeed(v)
	if err != nil {
		return 0, badInput(http.StatusBadRequest, "%v", err)
	}
	if random {
		seed = rand.Int64N(MaxRandomSeed + 1)
	}
	return seed, nil
}

// checkPrompt validates a text prompt: valid UTF-8, no control characters,
// not blank, at most maxBytes.
func checkPrompt(values []string, maxBytes int) (string, error) {
	switch len(values) {
	case 0:
		return "", badInput(http.StatusBadRequest, "missing form field %s", FieldPrompt)
	case 1:
	default:
		return "", badInput(http.StatusBadRequest, "form field %s given %d times; send it once", FieldPrompt, len(values))
	}
	p := strings.TrimSpace(values[0])
	switch {
	case p == "":
		return "", badInput(http.StatusBadRequest, "form field %s is empty", FieldPrompt)
	case len(p) > maxBytes:
		return "", badInput(http.StatusRequestEntityTooLarge, "form field %s is %d bytes; the limit is %d", FieldPrompt, len(p), maxBytes)
	case !utf8.ValidString(p):
		return "", badInput(http.StatusBadRequest, "form field %s is not valid UTF-8", FieldPrompt)
	}
	if i := strings.IndexFunc(p, unicode.IsControl); i >= 0 {
		return "", badInput(http.StatusBadRequest, "form field %s has a control character at byte %d", FieldPrompt, i)
	}
	return p, nil
}

// readTextForm parses the body of POST /generate/ (URL-encoded or
// multipart) and returns the prompt and seed fields.
func (s *Server) readTextForm(w http.ResponseWriter, r *http.Request) (prompt, seed string, err error) {
	limit := int64(s.opts.MaxPromptBytes) + 64<<10
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "multipart/form-data":
		err = r.ParseMultipartForm(limit)
	case "application/x-www-form-urlencoded":
		err = r.ParseForm()
	default:
		return "", "", badInput(http.StatusUnsupportedMediaType,
			"content type %q: send form field %s as application/x-www-form-urlencoded or multipart/form-data", mt, FieldPrompt)
	}
	if err != nil {
		return "", "", bodyError(err)
	}
	prompt, err = checkPrompt(r.PostForm[FieldPrompt], s.opts.MaxPromptBytes)
	return prompt, r.PostForm.Get(FieldSeed), err
}

// bodyError maps a body-reading error to 413 (over the limit) or 400.
func bodyError(err error) *inputError {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return badInput(http.StatusRequestEntityTooLarge, "request body over %d bytes", mbe.Limit)
	}
	return badInput(http.StatusBadRequest, "malformed form body: %v", err)
}

// upload is the image form of POST /generate after reading.
type upload struct {
	data     []byte
	format   string // "png" or "jpeg"
	seed     string
	filename string
}

// readImageForm streams the multipart body of POST /generate: the image
// part (at most MaxImageBytes), the seed part, and unknown parts skipped.
func (s *Server) readImageForm(w http.ResponseWriter, r *http.Request) (*upload, error) {
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxImageBytes+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, badInput(http.StatusUnsupportedMediaType, "want a multipart/form-data body with file field %s: %v", FieldImage, err)
	}
	var up upload
	var seen bool
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, bodyError(err)
		}
		switch part.FormName() {
		case FieldImage:
			if seen {
				return nil, badInput(http.StatusBadRequest, "file field %s given more than once", FieldImage)
			}
			seen = true
			up.filename = part.FileName()
			up.data, err = readAtMost(part, s.opts.MaxImageBytes, "file field "+FieldImage)
			if err != nil {
				return nil, err
			}
		case FieldSeed:
			b, err := readAtMost(part, 64, "form field "+FieldSeed)
			if err != nil {
				return nil, err
			}
			up.seed = string(b)
		default:
			if _, err := io.Copy(io.Discard, part); err != nil {
				return nil, bodyError(err)
			}
		}
	}
	if !seen {
		return nil, badInput(http.StatusBadRequest, "missing file field %s", FieldImage)
	}
	if len(up.data) == 0 {
		return nil, badInput(http.StatusBadRequest, "file field %s is empty", FieldImage)
	}
	up.format, err = checkImage(up.data, s.opts.MaxImagePixels)
	return &up, err
}

// readAtMost reads the part r of a form whole, failing with 413 when it
// holds more than n bytes.
func readAtMost(r io.Reader, n int64, what string) ([]byte, error) {
	var b bytes.Buffer
	m, err := b.ReadFrom(io.LimitReader(r, n+1))
	if err != nil {
		return nil, bodyError(err)
	}
	if m > n {
		return nil, badInput(http.StatusRequestEntityTooLarge, "%s is over the limit of %d bytes", what, n)
	}
	return b.Bytes(), nil
}

// checkImage checks that data is a whole PNG or JPEG of at most maxPixels
// with the shared decoder (the size from the header first: no allocation
// for a decompression bomb).
func checkImage(data []byte, maxPixels int) (string, error) {
	_, format, err := imagefile.DecodeBytes(data, "file field "+FieldImage, imagefile.Limits{MaxPixels: maxPixels, MaxBytes: int64(len(data))})
	switch {
	case errors.Is(err, imagefile.ErrTooLarge):
		return "", badInput(http.StatusRequestEntityTooLarge, "%v", err)
	case err != nil:
		return "", badInput(http.StatusBadRequest, "%v", err)
	}
	return format, nil
}

// clip shortens a client value quoted in an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// jobInput is the form of POST /jobs after reading: a text prompt or an
// image, and the seed field.
type jobInput struct {
	prompt string
	image  *upload
	seed   string
}

// readJobForm reads the body of POST /jobs: URL-encoded prompt and seed,
// or multipart with either form field prompt or file field
// prompt_image_file (not both), and seed.
func (s *Server) readJobForm(w http.ResponseWriter, r *http.Request) (*jobInput, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		prompt, seed, err := s.readTextForm(w, r)
		if err != nil {
			return nil, err
		}
		return &jobInput{prompt: prompt, seed: seed}, nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxImageBytes+int64(s.opts.MaxPromptBytes)+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, badInput(http.StatusBadRequest, "malformed multipart body: %v", err)
	}
	var in jobInput
	var prompts []string
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, bodyError(err)
		}
		switch part.FormName() {
		case FieldPrompt:
			b, err := readAtMost(part, int64(s.opts.MaxPromptBytes), "form field "+FieldPrompt)
			if err != nil {
				return nil, err
			}
			prompts = append(prompts, string(b))
		case FieldImage:
			if in.image != nil {
				return nil, badInput(http.StatusBadRequest, "file field %s given more than once", FieldImage)
			}
			up := &upload{filename: part.FileName()}
			if up.data, err = readAtMost(part, s.opts.MaxImageBytes, "file field "+FieldImage); err != nil {
				return nil, err
			}
			if len(up.data) == 0 {
				// An empty file input: the browser sends the part anyway.
				continue
			}
			if up.format, err = checkImage(up.data, s.opts.MaxImagePixels); err != nil {
				return nil, err
			}
			in.image = up
		case FieldSeed:
			b, err := readAtMost(part, 64, "form field "+FieldSeed)
			if err != nil {
				return nil, err
			}
			in.seed = string(b)
		default:
			if _, err := io.Copy(io.Discard, part); err != nil {
				return nil, bodyError(err)
			}
		}
	}
	blank := len(prompts) == 0 || (len(prompts) == 1 && strings.TrimSpace(prompts[0]) == "")
	switch {
	case in.image != nil && !blank:
		return nil, badInput(http.StatusBadRequest, "send either form field %s or file field %s, not both", FieldPrompt, FieldImage)
	case in.image != nil:
		return &in, nil
	case len(prompts) == 0:
		return nil, badInput(http.StatusBadRequest, "missing form field %s (or file field %s)", FieldPrompt, FieldImage)
	}
	in.prompt, err = checkPrompt(prompts, s.opts.MaxPromptBytes)
	return &in, err
}
