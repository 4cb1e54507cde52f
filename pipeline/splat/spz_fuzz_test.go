package splat

import (
	"bytes"
	"errors"
	"testing"
)

func FuzzReadSPZ(f *testing.F) {
	addFixtureSeeds(f, "spz")
	f.Add(mustWriteSPZ(f, codecRandCloud(91, 2, 0), SPZOptions{}))
	f.Add(mustWriteSPZ(f, codecRandCloud(92, 1, 1), SPZOptions{Container: SPZNGSP}))
	f.Add(gz(legacyPayload(1, 1, 0, 12, 0, make([]byte, 16))))
	f.Add(gz(legacyPayload(2, 9_999_999, 3, 12, 0, nil)))
	f.Add(zst(legacyPayload(2, 1, 0, 30, 0, make([]byte, 19))))
	f.Add([]byte("NGSP\x04\x00\x00\x00\x01\x00\x00\x00\x00\x0c\x00\x05\x20\x00\x00\x00"))
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, info, err := ReadSPZ(bytes.NewReader(data))
		if err != nil {
			if _, ok := errors.AsType[*SPZError](err); !ok {
				t.Fatalf("error %v is not an *SPZError", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("ReadSPZ returned an invalid cloud: %v", err)
		}
		if info.NumPoints != c.Len() || info.SHDegree != c.SHDegree {
			t.Fatalf("info %+v does not match the cloud", info)
		}
		// What was decoded re-encodes and decodes again.
		var b bytes.Buffer
		o := SPZOptions{Container: SPZGzip, FractionalBits: max(info.FractionalBits, 1)}
		if err := WriteSPZ(&b, c, o); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ReadSPZ(&b); err != nil {
			t.Fatalf("re-reading WriteSPZ output: %v", err)
		}
	})
}
