package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestDockerfileLayout checks docker/Dockerfile as far as it can be checked
// without a container engine: the subnet's layout (EXPOSE 10006, listening
// on 0.0.0.0:10006), pinned base images and Debian packages, COPY sources
// that exist in the build context (the repository root), and an entrypoint
// whose command and flags this binary has.
func TestDockerfileLayout(t *testing.T) {
	root := filepath.Join("..", "..")
	raw, err := os.ReadFile(filepath.Join(root, "docker", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	// Join continuation lines, drop comments.
	var lines []string
	cur := ""
	for _, l := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		if s, ok := strings.CutSuffix(l, "\\"); ok {
			cur += s + " "
			continue
		}
		if cur += l; strings.TrimSpace(cur) != "" {
			lines = append(lines, strings.TrimSpace(cur))
		}
		cur = ""
	}
	args := map[string]string{}
	var exposed, entry bool
	pinned := regexp.MustCompile(`^[a-z0-9./-]+(:[A-Za-z0-9._-]*[0-9][A-Za-z0-9._-]*)?(@sha256:[0-9a-f]{64})?$`)
	for _, l := range lines {
		instr, rest, _ := strings.Cut(l, " ")
		switch strings.ToUpper(instr) {
		case "ARG":
			if k, v, ok := strings.Cut(rest, "="); ok {
				args[k] = v
			}
		case "FROM":
			img := strings.Fields(rest)[0]
			img = os.Expand(img, func(k string) string { return args[k] })
			if !pinned.MatchString(img) || strings.HasSuffix(img, ":latest") || (!strings.Contains(img, ":") && !strings.Contains(img, "@")) {
				t.Errorf("FROM %s: not pinned by a version tag or digest", img)
			}
		case "EXPOSE":
			exposed = exposed || strings.TrimSpace(rest) == "10006"
		case "COPY":
			f := strings.Fields(rest)
			if strings.HasPrefix(f[0], "--from=") {
				continue
			}
			for _, src := range f[:len(f)-1] {
				if _, err := os.Stat(filepath.Join(root, src)); err != nil {
					t.Errorf("COPY %s: not in the build context: %v", src, err)
				}
			}
		case "RUN":
			if i := strings.Index(rest, "apt-get install"); i >= 0 {
				seg := rest[i:]
				if j := strings.Index(seg, "&&"); j >= 0 {
					seg = seg[:j]
				}
				for _, w := range strings.Fields(seg)[2:] {
					if !strings.HasPrefix(w, "-") && !strings.Contains(w, "=") {
						t.Errorf("apt package %s: no version pinned", w)
					}
				}
			}
		case "ENTRYPOINT":
			entry = true
			var argv []string
			if err := json.Unmarshal([]byte(rest), &argv); err != nil {
				t.Fatalf("ENTRYPOINT %s: want the JSON form: %v", rest, err)
			}
			c, ok := commands()[argv[1]]
			if !ok {
				t.Fatalf("ENTRYPOINT runs %q: no such command", argv[1])
			}
			fs := pflag.NewFlagSet(c.name, pflag.ContinueOnError)
			c.flags(fs)
			if err := fs.Parse(argv[2:]); err != nil {
				t.Fatalf("ENTRYPOINT flags %v: %v", argv[2:], err)
			}
			for flag, want := range map[string]string{"api": "pod", "listen": "0.0.0.0:10006"} {
				if got := fs.Lookup(flag).Value.String(); got != want {
					t.Errorf("ENTRYPOINT --%s %q, want %q", flag, got, want)
				}
			}
		}
	}
	if !exposed {
		t.Error("no EXPOSE 10006")
	}
	if !entry {
		t.Error("no ENTRYPOINT")
	}
}
