package serve

import (
	"bytes"
	"testing"

	"github.com/splatbench/splatbench/pipeline/splat"
)

// The fake generator's cloud must be one the service accepts, or every
// test below would test the gate instead of the service.
func TestFakeCloudPassesGates(t *testing.T) {
	t.Parallel()
	c := fakeCloud(8000, 7)
	if g := splat.CheckGate(c); !g.OK {
		t.Fatalf("CheckGate: %v", g.Reasons)
	}
	var b bytes.Buffer
	if err := splat.WritePLY(&b, c); err != nil {
		t.Fatal(err)
	}
	if g := splat.CheckPLYGate(b.Bytes()); !g.OK {
		t.Fatalf("CheckPLYGate: %v", g.Reasons)
	}
}
