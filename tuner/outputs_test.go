package tuner

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/results"
	"github.com/splatbench/splatbench/results/report"
	"github.com/splatbench/splatbench/results/table"
)

// golden compares got with testdata/<name>, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", name, diff)
	}
}

func fixtureRun(t *testing.T) (*results.Run, OutputOptions) {
	t.Helper()
	run, err := results.Create(t.TempDir(), "tune", time.Date(2026, 11, 25, 20, 30, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	pts, recs := sweepFixture()
	return run, OutputOptions{
		Base:        configs.DefaultProfile(),
		Points:      pts,
		Records:     recs,
		Aggregate:   AggregateOptions{Threshold: 0.6, Reward: DefaultRewardModel(1, 1)},
		BenchConfig: []table.KeyValue{{Key: "goos", Value: "linux"}, {Key: "device", Value: "cpu"}},
		Now:         func() time.Time { return time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC) },
	}
}

func TestWriteOutputsGolden(t *testing.T) {
	t.Parallel()
	run, opt := fixtureRun(t)
	var text bytes.Buffer
	opt.Text = &text
	out, err := WriteOutputs(run, opt)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "summary.txt", text.Bytes())
	for _, name := range []string{FrontierFile, PointsCSV, TrialsCSV, BenchFileTxt} {
		b, err := os.ReadFile(run.Path(name))
		if err != nil {
			t.Fatal(err)
		}
		golden(t, name, b)
	}
	onDisk, err := os.ReadFile(run.Path(SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk, text.Bytes()) {
		t.Error("summary.txt differs from the printed table")
	}
	for _, stem := range []string{"pareto", "stages", "scores"} {
		for _, ext := range []string{".png", ".svg"} {
			if fi, err := os.Stat(run.Path(PlotsDir + "/" + stem + ext)); err != nil || fi.Size() == 0 {
				t.Errorf("plot %s%s: %v", stem, ext, err)
			}
		}
	}
	html, err := os.ReadFile(run.Path(ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Pareto front", "best-reward-rate", "<svg", "Reward rate"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if len(out.Profiles) != 4 || len(out.Warnings) != 0 {
		t.Errorf("profiles %v, warnings %v", out.Profiles, out.Warnings)
	}
}

func TestWriteOutputsWithoutResults(t *testing.T) {
	t.Parallel()
	run, opt := fixtureRun(t)
	opt.Records = nil
	_, err := WriteOutputs(run, opt)
	if err == nil || !strings.Contains(err.Error(), ErrNoResults.Error()) {
		t.Fatalf("err = %v, want ErrNoResults", err)
	}
	for _, name := range []string{FrontierFile, PointsCSV, ReportFile} {
		if _, err := os.Stat(run.Path(name)); err != nil {
			t.Errorf("%s not written: %v", name, err)
		}
	}
}

// TestWriteOutputsSplats: the Splats hook gets the picks and their profile
// files, and what it returns is the report's "Outputs in 3D" section after
// the profiles; its error is a warning.
func TestWriteOutputsSplats(t *testing.T) {
	t.Parallel()
	run, opt := fixtureRun(t)
	var gotPicks []Pick
	var gotProfiles []string
	opt.ViewerDir = "viewer"
	opt.Splats = func(picks []Pick, profiles []string) ([]report.Splat, error) {
		gotPicks, gotProfiles = picks, profiles
		return []report.Splat{{Title: picks[0].Name + ": a red cube", ID: "p-1", Script: "splats/p-1.js"}}, errors.New("one profile failed")
	}
	out, err := WriteOutputs(run, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(gotPicks) == 0 || len(gotProfiles) != len(out.Profiles) || gotProfiles[0] != out.Profiles[0] {
		t.Errorf("hook got picks %v, profiles %v; written %v", gotPicks, gotProfiles, out.Profiles)
	}
	if len(out.Warnings) == 0 || !strings.Contains(out.Warnings[len(out.Warnings)-1].Error(), "one profile failed") {
		t.Errorf("warnings %v, want the hook's error", out.Warnings)
	}
	html, err := os.ReadFile(run.Path(ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	s := string(html)
	i, j := strings.Index(s, "<h2>Profiles</h2>"), strings.Index(s, "<h2>Outputs in 3D</h2>")
	if i < 0 || j < i || !strings.Contains(s, `data-src="splats/p-1.js"`) || !strings.Contains(s, `<script src="viewer/viewer.js">`) {
		t.Errorf("report has no Outputs in 3D after Profiles (at %d, %d)", i, j)
	}
}

// TestWriteOutputsCaveats: the run's caveats and those its trials carry
// (a remote worker's models) reach the report, marked under the title, and
// the Pareto table's notes, each once.
func TestWriteOutputsCaveats(t *testing.T) {
	t.Parallel()
	run, opt := fixtureRun(t)
	const mine, workers = "Random weights: /here/flux.", "Random weights: /worker/clip."
	opt.Meta.Caveats = []string{mine}
	for i := range opt.Records {
		if i%2 == 0 {
			opt.Records[i].Caveats = []string{workers, mine}
		}
	}
	if _, err := WriteOutputs(run, opt); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ file, before string }{
		{FrontierFile, "Caveat: "},
		{SummaryFile, "Caveat: "},
		{ReportFile, `<p class="caveat" role="note"><strong>Caveat:</strong> `},
	} {
		b, err := os.ReadFile(run.Path(tc.file))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []string{mine, workers} {
			if n := strings.Count(string(b), tc.before+c); n != 1 {
				t.Errorf("%s shows %q %d times, want once", tc.file, tc.before+c, n)
			}
		}
	}
}
