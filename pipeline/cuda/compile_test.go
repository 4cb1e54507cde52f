package cuda

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite kernels/*.ptx with NVRTC (make ptx)")

// requireNVRTCEnv, when set (make test sets it), turns a missing NVRTC
// into a failure instead of a skip, so CI cannot skip the PTX check.
const requireNVRTCEnv = "SPLATBENCH_REQUIRE_NVRTC"

// pinnedNVRTC is the NVRTC release the committed PTX is made with.
const pinnedNVRTC = "11.8"

// TestEmbeddedPTXIsCurrent compiles every kernel module's CUDA C with
// NVRTC 11.8 and checks that the committed PTX is exactly its output, so
// the PTX the binary embeds is the sources' (and ISA 7.8, which drivers
// from R520 on accept). With -update (make ptx) it rewrites the PTX.
func TestEmbeddedPTXIsCurrent(t *testing.T) {
	n, err := OpenNVRTC()
	if errors.Is(err, ErrNoNVRTC) && os.Getenv(requireNVRTCEnv) == "" {
		t.Skipf("no NVRTC (make test fetches NVRTC 11.8 and sets %s): %v", NVRTCEnv, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if n.Version() != pinnedNVRTC {
		if os.Getenv(requireNVRTCEnv) != "" {
			t.Fatalf("NVRTC %s at %s; the committed PTX is made with NVRTC %s", n.Version(), n.Path, pinnedNVRTC)
		}
		t.Skipf("NVRTC %s at %s; the committed PTX is made with NVRTC %s", n.Version(), n.Path, pinnedNVRTC)
	}
	for _, name := range moduleNames {
		got, err := compileModule(n, name, KernelArch)
		if err != nil {
			t.Fatal(err)
		}
		// EmbeddedMinDriver (11080, CUDA 11.8) is the driver of ISA 7.8.
		if major, minor, err := ptxVersion(got); err != nil || major != 7 || minor != 8 {
			t.Errorf("%s: PTX ISA %d.%d (%v); EmbeddedMinDriver assumes 7.8", name, major, minor, err)
		}
		path := filepath.Join("kernels", name+".ptx")
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := readPTX(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what NVRTC %s makes of %s.cu (%d vs %d bytes, first difference at line %d): run `make ptx` and commit it",
				path, n.Version(), name, len(want), len(got), firstDiffLine(want, got))
		}
	}
}

func firstDiffLine(a, b []byte) int {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return i + 1
		}
	}
	return min(len(la), len(lb)) + 1
}

// TestNVRTCCompileErrorCarriesLog: a source that does not compile gives an
// error with NVRTC's log, naming the file and line.
func TestNVRTCCompileErrorCarriesLog(t *testing.T) {
	n, err := OpenNVRTC()
	if err != nil {
		t.Skipf("no NVRTC: %v", err)
	}
	_, err = n.CompilePTX("broken.cu", []byte("extern \"C\" __global__ void k() { undefined_name = 1; }\n"), nil,
		[]string{"--gpu-architecture=" + KernelArch})
	if err == nil {
		t.Fatal("compiled a broken source")
	}
	for _, want := range []string{"nvrtcCompileProgram(broken.cu)", "broken.cu(1)", "undefined_name"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// TestOpenNVRTCNamesEveryAttempt: with nothing loadable the error wraps
// ErrNoNVRTC and lists each path tried.
func TestOpenNVRTCNamesEveryAttempt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	junk := filepath.Join(dir, "libnvrtc.so.99")
	if err := os.WriteFile(junk, []byte("not an ELF file"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := loadNVRTC([]string{junk, filepath.Join(dir, "missing.so")})
	if !errors.Is(err, ErrNoNVRTC) {
		t.Fatalf("err = %v, want ErrNoNVRTC", err)
	}
	for _, want := range []string{junk, "missing.so", NVRTCEnv} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

func TestKernelPlan(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		driver int
		want   string
	}{
		{13000, "embedded PTX"},
		{12040, "embedded PTX"},
		{11080, "embedded PTX"},
		{11070, "< 11.8"},
	} {
		plan, ok := KernelPlan(tt.driver)
		if !strings.Contains(plan, tt.want) {
			t.Errorf("KernelPlan(%d) = %q, want it to contain %q", tt.driver, plan, tt.want)
		}
		if tt.driver >= EmbeddedMinDriver && !ok {
			t.Errorf("KernelPlan(%d) not ok", tt.driver)
		}
	}
}

func TestRenumberCallseq(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"no calls\n", "no calls\n"},
		{"\t{ // callseq 0, 0\n\t} // callseq 0\n", "\t{ // callseq 0, 0\n\t} // callseq 0\n"},
		{"\t{ // callseq 7, 0\n\t} // callseq 7\n\t{ // callseq 9, 0\n\t} // callseq 9\n",
			"\t{ // callseq 0, 0\n\t} // callseq 0\n\t{ // callseq 1, 0\n\t} // callseq 1\n"},
	}
	for _, tt := range tests {
		if got := string(renumberCallseq([]byte(tt.in))); got != tt.want {
			t.Errorf("renumberCallseq(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestCompileIsRepeatable: compiling the same module twice in one process
// gives the same PTX (NVRTC's process-wide call counter is renumbered).
func TestCompileIsRepeatable(t *testing.T) {
	n, err := OpenNVRTC()
	if err != nil {
		t.Skipf("no NVRTC: %v", err)
	}
	var first []byte
	for i := range 2 {
		got, err := compileModule(n, "project", KernelArch)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = got
		} else if !bytes.Equal(got, first) {
			t.Errorf("second compile of project.cu differs at line %d", firstDiffLine(first, got))
		}
	}
}
