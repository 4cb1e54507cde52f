package configs

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// presetFS holds the embedded presets: profiles as NAME.yaml, sweeps as
// sweep-NAME.yaml.
//
//go:embed presets/*.yaml
var presetFS embed.FS

const sweepPrefix = "sweep-"

func presetFiles(sweeps bool) []string {
	entries, err := fs.ReadDir(presetFS, "presets")
	if err != nil {
		panic(err) // the directory is embedded; this cannot fail
	}
	var names []string
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".yaml")
		if strings.HasPrefix(name, sweepPrefix) == sweeps {
			names = append(names, strings.TrimPrefix(name, sweepPrefix))
		}
	}
	slices.Sort(names)
	return names
}

// PresetNames lists the embedded profile presets (default, fast, quality).
func PresetNames() []string { return presetFiles(false) }

// SweepPresetNames lists the embedded sweep presets (default, gpu, image).
func SweepPresetNames() []string { return presetFiles(true) }

func isPreset(name string) bool { return slices.Contains(PresetNames(), name) }

// Preset returns the embedded profile preset called name.
func Preset(name string) (Profile, error) {
	if !isPreset(name) {
		return Profile{}, fmt.Errorf("%w: unknown profile preset %q (presets: %s)", ErrInvalid, name, strings.Join(PresetNames(), ", "))
	}
	file := path.Join("presets", name+".yaml")
	data, err := presetFS.ReadFile(file)
	if err != nil {
		return Profile{}, fmt.Errorf("preset %s: %w", name, err)
	}
	return ParseProfile(file, data)
}

// SweepPreset returns the embedded sweep preset called name; the
// "sweep-" file prefix may be included ("sweep-default" = "default").
func SweepPreset(name string) (Sweep, error) {
	name = strings.TrimPrefix(name, sweepPrefix)
	if !slices.Contains(SweepPresetNames(), name) {
		return Sweep{}, fmt.Errorf("%w: unknown sweep preset %q (presets: %s)", ErrInvalid, name, strings.Join(SweepPresetNames(), ", "))
	}
	file := path.Join("presets", sweepPrefix+name+".yaml")
	data, err := presetFS.ReadFile(file)
	if err != nil {
		return Sweep{}, fmt.Errorf("sweep preset %s: %w", name, err)
	}
	return ParseSweep(file, data)
}

// ResolveProfile returns the preset called ref, or else loads ref as a
// profile file. A name that is neither is an error listing the presets.
func ResolveProfile(ref string) (Profile, error) {
	if !looksLikePath(ref) && isPreset(ref) {
		return Preset(ref)
	}
	if _, err := os.Stat(ref); err != nil && !looksLikePath(ref) {
		return Profile{}, fmt.Errorf("%w: %q is neither a profile preset (%s) nor a file", ErrInvalid, ref, strings.Join(PresetNames(), ", "))
	}
	return LoadProfile(ref)
}

// ResolveSweep returns the sweep preset called ref, or else loads ref as a
// sweep file.
func ResolveSweep(ref string) (Sweep, error) {
	if !looksLikePath(ref) && slices.Contains(SweepPresetNames(), strings.TrimPrefix(ref, sweepPrefix)) {
		return SweepPreset(ref)
	}
	if _, err := os.Stat(ref); err != nil && !looksLikePath(ref) {
		return Sweep{}, fmt.Errorf("%w: %q is neither a sweep preset (%s) nor a file", ErrInvalid, ref, strings.Join(SweepPresetNames(), ", "))
	}
	return LoadSweep(ref)
}

// looksLikePath reports whether a profile reference is a file path rather
// than a preset name.
func looksLikePath(ref string) bool {
	ext := strings.ToLower(filepath.Ext(ref))
	return strings.ContainsRune(ref, filepath.Separator) || strings.ContainsRune(ref, '/') ||
		ext == ".yaml" || ext == ".yml"
}
