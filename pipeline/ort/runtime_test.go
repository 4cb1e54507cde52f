package ort

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestInitBadLibraries runs in a child process, so that no library is loaded
// yet when it starts: each bad file must give a one-line error naming it,
// never a crash; afterwards the real library still loads, and a second Init
// with another path is refused.
func TestInitBadLibraries(t *testing.T) {
	if os.Getenv("SPLATBENCH_ORT_CHILD") == "" {
		if _, _, err := FindLibrary(""); err != nil {
			missing(t, "no ONNX Runtime library: "+err.Error())
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestInitBadLibraries$", "-test.v")
		cmd.Env = append(os.Environ(), "SPLATBENCH_ORT_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child process failed: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "--- PASS: TestInitBadLibraries") {
			t.Fatalf("child process did not run the test:\n%s", out)
		}
		return
	}
	real, _, err := FindLibrary("")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	truncated := filepath.Join(dir, "truncated.so")
	copyPrefix(t, real, truncated, 1<<20)
	text := filepath.Join(dir, "text.so")
	if err := os.WriteFile(text, []byte("this is not a library\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.so")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"truncated copy", truncated, "truncated"},
		{"text file", text, "not a shared library"},
		{"empty file", empty, "not a shared library"},
		{"missing", filepath.Join(dir, "nope.so"), "no such file"},
		{"directory", dir, "not a regular file"},
	}
	// A real shared library that is not ONNX Runtime gets past the ELF
	// checks and fails in dlsym.
	for _, lib := range []string{"/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6", "/lib64/libm.so.6"} {
		if _, err := os.Stat(lib); err == nil {
			tests = append(tests, struct{ name, path, want string }{"not onnx runtime", lib, "cannot load"})
			break
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, err := Init(tt.path, nil)
			if err == nil {
				t.Fatalf("Init(%s) = %v, want an error", tt.path, rt)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || !strings.Contains(msg, tt.path) || !strings.Contains(msg, tt.want) {
				t.Errorf("error %q: want one line naming %s and saying %q", msg, tt.path, tt.want)
			}
		})
	}
	rt, err := Init(real, nil)
	if err != nil {
		t.Fatalf("real library after failures: %v", err)
	}
	again, err := Init(real, nil)
	if err != nil || again != rt {
		t.Errorf("second Init with the same path = %p, %v; want the same Runtime %p", again, err, rt)
	}
	if _, err := Init(truncated, nil); err == nil || !strings.Contains(err.Error(), "already loaded") {
		t.Errorf("Init with another path after success: %v, want 'already loaded'", err)
	}
}

func copyPrefix(t *testing.T, src, dst string, n int64) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(out, in, n); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestRuntimeInfo(t *testing.T) {
	rt := testRuntime(t)
	if !strings.HasPrefix(rt.Version(), "1.") {
		t.Errorf("Version() = %q", rt.Version())
	}
	p := rt.Providers()
	if len(p) == 0 || p[0] != CPU {
		t.Errorf("Providers() = %v, want cpu first", p)
	}
	for _, name := range []string{CUDA, TensorRT} {
		in := false
		for _, q := range p {
			in = in || q == name
		}
		if in == (rt.Unavailable(name) != "") {
			t.Errorf("%s: in Providers = %v but Unavailable = %q", name, in, rt.Unavailable(name))
		}
	}
}

func TestNormalizeProvider(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"CUDA": CUDA, "CUDAExecutionProvider": CUDA, " cpu ": CPU, "TensorrtExecutionProvider": TensorRT,
		"trt": TensorRT, "rocm": "rocm",
	} {
		if got := NormalizeProvider(in); got != want {
			t.Errorf("NormalizeProvider(%q) = %q, want %q", in, got, want)
		}
	}
}
