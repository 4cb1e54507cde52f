package ort

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"
)

// WeightsKey is the ONNX metadata key (ModelProto.metadata_props) that
// says where a model's weights came from. tools/make_gpu_models.py and
// tools/make_tiny_models.py write RandomWeights under it: such a model
// runs at the real model's speed, but its outputs are noise.
const WeightsKey = "splatbench.weights"

// RandomWeights is WeightsKey's value for a model whose weights are random.
const RandomWeights = "random"

// Limits on what ReadMetadata keeps: metadata is a few short strings, and
// a file is not trusted to say how much to allocate.
const (
	maxMetadataEntries = 64
	maxMetadataEntry   = 64 << 10 // bytes, key and value together
)

// ReadMetadata returns the metadata_props of the ONNX model at path (the
// key-value strings a model's producer attached). It reads the top level
// of the ModelProto only, seeking over the graph and everything else, so
// it costs a few reads whatever the model's size. Entries beyond the first
// maxMetadataEntries, larger than maxMetadataEntry or not UTF-8 are
// skipped; a file
// that is not a well-formed protobuf at the top level gives an error.
func ReadMetadata(path string) (map[string]string, error) {
	// A FIFO or a device would block or never end: only regular files.
	if fi, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("model %s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	defer f.Close()
	md, err := readMetadata(f)
	if err != nil {
		return nil, fmt.Errorf("model %s: metadata: %w", path, err)
	}
	return md, nil
}

// modelMetadataField is ModelProto.metadata_props; an entry
// (StringStringEntryProto) holds key = 1 and value = 2.
const modelMetadataField = 14

// errProtobuf is wrapped by every malformed-input error of readMetadata.
var errProtobuf = errors.New("not a well-formed ONNX protobuf")

func readMetadata(r io.ReadSeeker) (map[string]string, error) {
	br := bufio.NewReader(r)
	// pos is the offset of br's next byte; skipping resets the buffer.
	var pos int64
	skip := func(n uint64) error {
		if n <= uint64(br.Buffered()) {
			_, err := br.Discard(int(n))
			pos += int64(n)
			return err
		}
		end, err := r.Seek(pos+int64(n), io.SeekStart)
		if err != nil {
			return err
		}
		pos = end
		br.Reset(r)
		return nil
	}
	uvarint := func() (uint64, error) {
		v, err := binary.ReadUvarint(countingByteReader{br, &pos})
		if err != nil {
			return 0, fmt.Errorf("%w: %v", errProtobuf, err)
		}
		return v, nil
	}
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	md := map[string]string{}
	for pos < size {
		tag, err := uvarint()
		if err != nil {
			return nil, err
		}
		field, wire := tag>>3, tag&7
		switch wire {
		case 0: // varint
			_, err = uvarint()
		case 1: // fixed64
			err = skip(8)
		case 5: // fixed32
			err = skip(4)
		case 2: // length-delimited
			var n uint64
			if n, err = uvarint(); err != nil {
				return nil, err
			}
			if n > uint64(size-pos) {
				return nil, fmt.Errorf("%w: field %d at byte %d is %d bytes long, past the end of the %d-byte file", errProtobuf, field, pos, n, size)
			}
			if field != modelMetadataField || n > maxMetadataEntry || len(md) >= maxMetadataEntries {
				err = skip(n)
				break
			}
			b := make([]byte, n)
			if _, err = io.ReadFull(br, b); err != nil {
				break
			}
			pos += int64(n)
			k, v, perr := parseEntry(b)
			if perr != nil {
				return nil, fmt.Errorf("%w: metadata entry at byte %d: %v", errProtobuf, pos-int64(n), perr)
			}
			if utf8.ValidString(k) && utf8.ValidString(v) { // proto2 does not check; skip what is not text
				md[k] = v
			}
		default:
			return nil, fmt.Errorf("%w: wire type %d at byte %d", errProtobuf, wire, pos)
		}
		if err != nil {
			return nil, err
		}
		if field == 0 || pos > size {
			return nil, fmt.Errorf("%w: field %d ends past the end of the %d-byte file", errProtobuf, field, size)
		}
	}
	return md, nil
}

// parseEntry decodes a StringStringEntryProto.
func parseEntry(b []byte) (key, value string, err error) {
	for len(b) > 0 {
		tag, n := binary.Uvarint(b)
		if n <= 0 {
			return "", "", errors.New("bad tag")
		}
		b = b[n:]
		if tag&7 != 2 {
			return "", "", fmt.Errorf("field %d has wire type %d, want a string", tag>>3, tag&7)
		}
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return "", "", errors.New("bad string length")
		}
		s := b[n : n+int(l)]
		b = b[n+int(l):]
		switch tag >> 3 {
		case 1:
			key = string(s)
		case 2:
			value = string(s)
		}
	}
	return key, value, nil
}

// countingByteReader advances *pos by every byte it reads.
type countingByteReader struct {
	r   io.ByteReader
	pos *int64
}

func (c countingByteReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		*c.pos++
	}
	return b, err
}
