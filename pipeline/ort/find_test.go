package ort

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCacheDir(t *testing.T) {
	tests := []struct {
		name             string
		cache, xdg, home string
		want             string
	}{
		{"explicit cache", "/c", "/x", "/h", "/c"},
		{"xdg", "", "/x", "/h", "/x/splatbench"},
		{"home", "", "", "/h", "/h/.cache/splatbench"},
		{"nothing", "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SPLATBENCH_CACHE", tt.cache)
			t.Setenv("XDG_CACHE_HOME", tt.xdg)
			t.Setenv("HOME", tt.home)
			if got := CacheDir(); got != tt.want {
				t.Errorf("CacheDir() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFindLibrary(t *testing.T) {
	dir := t.TempDir()
	touch := func(p string) string {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flagLib := touch(filepath.Join(dir, "flag", "lib.so"))
	envLib := touch(filepath.Join(dir, "env", "lib.so"))
	cacheLib := touch(filepath.Join(dir, "cache", "ort", LibraryName))
	missing := filepath.Join(dir, "missing.so")
	gpuLib := touch(filepath.Join(dir, "gpucache", GPUDir, LibraryName))
	touch(filepath.Join(dir, "gpucache", "ort", LibraryName))
	cpuOfGPUCache := filepath.Join(dir, "gpucache", "ort", LibraryName)
	nvidia := touch(filepath.Join(dir, "dev", "nvidiactl"))

	tests := []struct {
		name       string
		flag, env  string
		cache      string
		wantPath   string
		wantSource string
		wantErr    []string // substrings of the error
		noGPU      bool     // no NVIDIA device node
	}{
		{name: "gpu cache with a device", cache: filepath.Join(dir, "gpucache"), wantPath: gpuLib, wantSource: "cache-gpu"},
		{name: "gpu cache without a device", cache: filepath.Join(dir, "gpucache"), noGPU: true, wantPath: cpuOfGPUCache, wantSource: "cache"},
		{name: "device without gpu cache", cache: filepath.Join(dir, "cache"), wantPath: cacheLib, wantSource: "cache"},
		{name: "flag wins", flag: flagLib, env: envLib, cache: filepath.Join(dir, "cache"), wantPath: flagLib, wantSource: "flag"},
		{name: "env next", env: envLib, cache: filepath.Join(dir, "cache"), wantPath: envLib, wantSource: "env"},
		{name: "cache last", cache: filepath.Join(dir, "cache"), wantPath: cacheLib, wantSource: "cache"},
		{name: "missing flag is not skipped", flag: missing, cache: filepath.Join(dir, "cache"),
			wantErr: []string{"flag " + missing + " (not found)", "run make setup"}},
		{name: "missing env is not skipped", env: missing, cache: filepath.Join(dir, "cache"),
			wantErr: []string{"$SPLATBENCH_ORT_LIB " + missing + " (not found)"}},
		{name: "directory", flag: dir, wantErr: []string{"(not a regular file)"}},
		{name: "nothing anywhere", cache: filepath.Join(dir, "empty"),
			wantErr: []string{"$SPLATBENCH_ORT_LIB (unset)", "cache " + filepath.Join(dir, "empty", "ort", LibraryName) + " (not found)", "run make setup"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvLibrary, tt.env)
			t.Setenv("SPLATBENCH_CACHE", tt.cache)
			old := nvidiaDevice
			t.Cleanup(func() { nvidiaDevice = old })
			nvidiaDevice = nvidia
			if tt.noGPU {
				nvidiaDevice = missing
			}
			path, source, err := FindLibrary(tt.flag)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("FindLibrary = %q, %q; want an error", path, source)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if path != tt.wantPath || source != tt.wantSource {
				t.Errorf("FindLibrary = %q, %q; want %q, %q", path, source, tt.wantPath, tt.wantSource)
			}
		})
	}
}
