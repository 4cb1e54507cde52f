//go:build gpu

package cuda

import (
	"bytes"
	"errors"
	"testing"
)

// TestContextMemory: bytes copied into a Context's memory come back out,
// also through a second Context of the same device (one primary context).
func TestContextMemory(t *testing.T) {
	a, err := Retain(0)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Release()
	b, err := Retain(0)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	want := make([]byte, 3<<20+5)
	for i := range want {
		want[i] = byte(i * 7)
	}
	p, err := a.Alloc(uint64(len(want)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.CopyIn(p, want); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(want))
	if err := b.CopyOut(got, p); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("the bytes read back differ from those written")
	}
	if err := a.Free(p); err != nil {
		t.Fatal(err)
	}
	if _, err := Retain(1 << 20); !errors.Is(err, ErrNoDevice) {
		t.Errorf("Retain of a missing device: %v, want ErrNoDevice", err)
	}
}
