package cuda

import (
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPTXVersionAndLowering(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		src          string
		major, minor int
		lowered      string
		wantErr      bool
	}{
		{"nvcc13", "//\n.version 9.0\n.target sm_75\n.address_size 64\n", 9, 0, "//\n.version 7.0\n.target sm_75\n.address_size 64\n", false},
		{"indented", "  .version 8.5\n.target sm_75\n", 8, 5, ".version 7.0\n.target sm_75\n", false},
		{"no version", ".target sm_75\n", 0, 0, "", true},
		{"version in a comment only", "// .version 9.0 is what nvcc writes\n", 0, 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ma, mi, err := ptxVersion([]byte(tt.src))
			if (err != nil) != tt.wantErr {
				t.Fatalf("ptxVersion error = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				if _, lerr := lowerPTX([]byte(tt.src), loweredPTXVersion); lerr == nil {
					t.Error("lowerPTX accepted a text without a version line")
				}
				return
			}
			if ma != tt.major || mi != tt.minor {
				t.Errorf("version = %d.%d, want %d.%d", ma, mi, tt.major, tt.minor)
			}
			got, err := lowerPTX([]byte(tt.src), loweredPTXVersion)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.lowered, string(got)); diff != "" {
				t.Errorf("lowered (-want +got):\n%s", diff)
			}
		})
	}
}

// TestKernelSourcesDeclareEveryKernel keeps the loader's kernel list and the
// embedded CUDA sources in step: every name the loader looks up is an
// extern "C" __global__ function of its module's .cu file, and every such
// function is looked up.
func TestKernelSourcesDeclareEveryKernel(t *testing.T) {
	t.Parallel()
	decl := regexp.MustCompile(`extern "C" __global__ void(?:\s+__launch_bounds__\(\w+(?:,\s*\w+)?\))?\s+(\w+)\(`)
	for _, mod := range moduleNames {
		src, err := fs.ReadFile(kernelFS, "kernels/"+mod+".cu")
		if err != nil {
			t.Fatalf("module %s: %v", mod, err)
		}
		var got []string
		for _, m := range decl.FindAllSubmatch(src, -1) {
			got = append(got, string(m[1]))
		}
		if diff := cmp.Diff(kernelNames[mod], got); diff != "" {
			t.Errorf("module %s kernels (-loader +source):\n%s", mod, diff)
		}
	}
}

// TestEmbeddedPTXMatchesSources checks, when PTX has been generated, that
// each module's PTX defines its kernels (the PTX is stale otherwise).
func TestEmbeddedPTXMatchesSources(t *testing.T) {
	t.Parallel()
	for _, mod := range moduleNames {
		ptx, err := fs.ReadFile(kernelFS, "kernels/"+mod+".ptx")
		if err != nil {
			t.Skipf("no embedded PTX yet (%v): run make ptx on a CUDA machine", err)
		}
		for _, k := range kernelNames[mod] {
			if !strings.Contains(string(ptx), ".entry "+k+"(") {
				t.Errorf("%s.ptx has no entry %s: regenerate it with make ptx", mod, k)
			}
		}
	}
}

func TestNoDriverIsAnError(t *testing.T) {
	t.Parallel()
	_, err := loadDriver([]string{"libcuda-does-not-exist.so.1"})
	if !errors.Is(err, ErrNoDriver) {
		t.Fatalf("loadDriver of a missing library: %v, want ErrNoDriver", err)
	}
	if !strings.Contains(err.Error(), "libcuda-does-not-exist.so.1") {
		t.Errorf("error %q does not name the library", err)
	}
}

// TestOpenWithoutDriver runs on machines without a CUDA driver (CI): Open
// and Discover must return errors, never panic or exit.
func TestOpenWithoutDriver(t *testing.T) {
	t.Parallel()
	if _, err := driver(); err == nil {
		t.Skip("a CUDA driver is present on this machine")
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := Open(0, log); !errors.Is(err, ErrNoDriver) {
		t.Errorf("Open: %v, want ErrNoDriver", err)
	}
	if _, err := Discover(log); !errors.Is(err, ErrNoDriver) {
		t.Errorf("Discover: %v, want ErrNoDriver", err)
	}
}

func TestDriverErrorNamesTheCall(t *testing.T) {
	t.Parallel()
	var a *api
	tests := []struct {
		code int32
		want string
	}{
		{resultOutOfMemory, "cuda: cuMemAlloc failed: CUDA_ERROR_OUT_OF_MEMORY (2)"},
		{resultUnsupportedPTXVer, "cuda: cuMemAlloc failed: CUDA_ERROR_UNSUPPORTED_PTX_VERSION (222)"},
		{9999, "cuda: cuMemAlloc failed: CUDA_ERROR_UNKNOWN_CODE (9999)"},
	}
	for _, tt := range tests {
		err := a.check("cuMemAlloc", tt.code)
		if err == nil || err.Error() != tt.want {
			t.Errorf("check(%d) = %v, want %q", tt.code, err, tt.want)
		}
	}
	if err := a.check("cuInit", resultSuccess); err != nil {
		t.Errorf("success gave %v", err)
	}
}

func TestDriverVersionString(t *testing.T) {
	t.Parallel()
	for v, want := range map[int]string{13000: "13.0", 12080: "12.8", 11040: "11.4"} {
		if got := DriverVersionString(v); got != want {
			t.Errorf("DriverVersionString(%d) = %q, want %q", v, got, want)
		}
	}
}
