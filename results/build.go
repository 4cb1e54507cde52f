package results

import (
	"runtime"
	"runtime/debug"
)

// Build is what the binary knows about how it was built.
type Build struct {
	// Version is the main module's version, "(devel)" for a local build.
	Version string
	// GoVersion is the Go toolchain version.
	GoVersion string
	// Commit is vcs.revision, with "+dirty" appended when vcs.modified is
	// true, or "unknown" when the build carries no VCS stamp (go test,
	// -buildvcs=false).
	Commit string
}

// ReadBuild reads the build facts from runtime/debug.ReadBuildInfo.
func ReadBuild() Build {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return Build{Version: "unknown", GoVersion: runtime.Version(), Commit: "unknown"}
	}
	return buildFrom(info)
}

func buildFrom(info *debug.BuildInfo) Build {
	b := Build{Version: info.Main.Version, GoVersion: info.GoVersion, Commit: "unknown"}
	if b.Version == "" {
		b.Version = "(devel)"
	}
	if b.GoVersion == "" {
		b.GoVersion = runtime.Version()
	}
	var rev string
	var modified bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev != "" {
		b.Commit = rev
		if modified {
			b.Commit += "+dirty"
		}
	}
	return b
}
