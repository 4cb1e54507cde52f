package tuner

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/results"
	"github.com/splatbench/splatbench/results/atomicfile"
	"github.com/splatbench/splatbench/results/report"
	"github.com/splatbench/splatbench/results/table"
)

// File names WriteOutputs writes inside a run directory.
const (
	FrontierFile = "frontier.md"
	SummaryFile  = "summary.txt"
	TrialsCSV    = "trials.csv"
	PointsCSV    = "points.csv"
	BenchFileTxt = "bench.txt"
	ReportFile   = "report.html"
)

// OutputOptions is what WriteOutputs needs besides the run directory.
type OutputOptions struct {
	// Base is the sweep's base profile; the emitted profiles are it with
	// the picked points applied.
	Base configs.Profile
	// Points are the sweep's points (Points(sweep, base)).
	Points []Point
	// Records are the run's records (trials.jsonl).
	Records []results.Record
	// Objectives name the front's metrics (nil: DefaultObjectives).
	Objectives []string
	// Aggregate holds the threshold default and the reward model.
	Aggregate AggregateOptions
	// Meta is run.json, shown at the top of the report (zero: left out).
	Meta results.Meta
	// BenchConfig are the configuration lines of bench.txt (goos, cpu,
	// device...); see table.BenchConfig.
	BenchConfig []table.KeyValue
	// Text, when not nil, gets the Pareto and profile tables as text.
	Text io.Writer
	// Logger gets warnings (a figure that could not be drawn); nil
	// discards.
	Logger *slog.Logger
	// Now stamps the report (time.Now when nil).
	Now func() time.Time
	// Splats, when set, is called with the picks and the profile files
	// written for them; what it returns (outputs generated with each
	// profile, their data scripts and the viewer's files already in the
	// run directory under ViewerDir) goes in the report's "Outputs in 3D".
	// Its error is a warning: the report is written without them.
	Splats func(picks []Pick, profiles []string) ([]report.Splat, error)
	// ViewerDir is the viewer's folder in the run directory, relative to
	// the report (see report.Report.ViewerDir).
	ViewerDir string
}

// Outputs is what WriteOutputs computed and wrote.
type Outputs struct {
	Stats []PointStats
	// Front indexes Stats, best first objective first.
	Front []int
	Picks []Pick
	// Profiles are the profile files written, in Picks order.
	Profiles []string
	// Files are all files written, profiles included.
	Files []string
	// Warnings are problems that did not stop the outputs (a figure with
	// nothing to draw).
	Warnings []error
}

// WriteOutputs aggregates a run's records and writes everything `tune`
// leaves in the run directory: frontier.md and summary.txt (Pareto table
// and profiles), trials.csv (every trial), points.csv (every point, front
// marked), bench.txt (Go benchmark format), plots/{pareto,stages,scores}
// as PNG and SVG, profiles/<name>.yaml and report.html. When no point has
// a successful trial the tables, CSVs and report are still written and the
// error wraps ErrNoResults.
func WriteOutputs(run *results.Run, opt OutputOptions) (*Outputs, error) {
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	objs, err := LookupObjectives(opt.Objectives)
	if err != nil {
		return nil, err
	}
	out := &Outputs{Stats: Aggregate(opt.Points, opt.Records, opt.Aggregate)}
	if out.Front, err = Front(out.Stats, objs); err != nil {
		return nil, err
	}
	picks, selErr := Select(out.Stats)
	if selErr != nil && !errors.Is(selErr, ErrNoResults) {
		return nil, selErr
	}
	out.Picks = picks
	if len(picks) > 0 {
		if out.Profiles, err = WriteProfiles(run.Dir(), opt.Base, out.Stats, picks); err != nil {
			return out, err
		}
		out.Files = append(out.Files, out.Profiles...)
	}

	cav := caveats(opt.Meta.Caveats, opt.Records)
	frontier := PointsTable("Pareto front ("+objectiveNames(objs)+")", out.Stats, out.Front, picks, true)
	frontier.Notes = frontierNotes(out, opt, cav)
	all := PointsTable("All points (front marked)", out.Stats, out.Front, picks, false)
	picksT := PicksTable(out.Stats, picks)

	write := func(name string, render func(io.Writer) error) error {
		var buf bytes.Buffer
		if err := render(&buf); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		path := run.Path(name)
		if err := atomicfile.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		out.Files = append(out.Files, path)
		return nil
	}
	text := func(w io.Writer) error {
		if err := frontier.WriteText(w); err != nil {
			return err
		}
		if len(picks) == 0 {
			return nil
		}
		fmt.Fprintln(w)
		return picksT.WriteText(w)
	}
	steps := []struct {
		name   string
		render func(io.Writer) error
	}{
		{FrontierFile, func(w io.Writer) error {
			if err := frontier.WriteMarkdown(w); err != nil {
				return err
			}
			fmt.Fprintln(w)
			return picksT.WriteMarkdown(w)
		}},
		{SummaryFile, text},
		{TrialsCSV, TrialsTable(opt.Records).WriteCSV},
		{PointsCSV, all.WriteCSV},
		{BenchFileTxt, func(w io.Writer) error { return table.WriteBench(w, BenchFile(out.Stats, opt.BenchConfig)) }},
	}
	for _, s := range steps {
		if err := write(s.name, s.render); err != nil {
			return out, err
		}
	}
	if opt.Text != nil {
		if err := text(opt.Text); err != nil {
			return out, fmt.Errorf("print Pareto table: %w", err)
		}
	}

	figs, warns := buildFigures(out.Stats, out.Front, picks, opt.Records)
	for _, w := range warns {
		log.Warn("figure left out", "err", w)
	}
	out.Warnings = append(out.Warnings, warns...)
	svgs, files, err := writeFigures(run.Path(PlotsDir), figs)
	out.Files = append(out.Files, files...)
	if err != nil {
		return out, err
	}

	now := opt.Now
	if now == nil {
		now = time.Now
	}
	rep := report.Report{
		Title:     "splatbench tune " + run.ID(),
		Caveats:   cav,
		Summary:   reportSummary(out),
		Generated: now().UTC(),
		Generator: "splatbench " + opt.Meta.Version,
		Notes:     RewardModelNotes(opt.Aggregate.Reward),
	}
	if !opt.Meta.Start.IsZero() {
		rep.Meta = report.MetaRows(run.ID(), opt.Meta)
	}
	front := report.Section{Title: "Pareto front", Tables: []*table.Table{frontier}}
	sections := []report.Section{front, {Title: "Profiles", Tables: []*table.Table{picksT}}}
	for i, f := range figs {
		fig := report.Figure{Caption: f.caption, SVG: svgs[i]}
		if f.stem == "pareto" {
			sections[0].Figures = append(sections[0].Figures, fig)
		} else {
			sections = append(sections, report.Section{Title: f.fig.Data().Title, Figures: []report.Figure{fig}})
		}
	}
	if opt.Splats != nil && len(out.Profiles) > 0 {
		splats, err := opt.Splats(picks, out.Profiles)
		if err != nil {
			log.Warn("outputs in 3D left out", "err", err)
			out.Warnings = append(out.Warnings, fmt.Errorf("outputs in 3D: %w", err))
		}
		if len(splats) > 0 {
			rep.ViewerDir = opt.ViewerDir
			views := report.Section{
				Title:  "Outputs in 3D",
				Intro:  []string{"Each profile's output for a few prompts of the corpus, generated after the sweep. Press one to turn it around."},
				Splats: splats,
			}
			// After the profiles, before the plots.
			sections = append(sections[:2:2], append([]report.Section{views}, sections[2:]...)...)
		}
	}
	sections = append(sections, report.Section{Title: "All points", Tables: []*table.Table{all}})
	rep.Sections = sections
	if err := write(ReportFile, func(w io.Writer) error { return report.Write(w, rep) }); err != nil {
		return out, err
	}
	if selErr != nil {
		return out, selErr
	}
	return out, nil
}

func objectiveNames(objs []Objective) string {
	var b bytes.Buffer
	for i, o := range objs {
		if i > 0 {
			b.WriteString(" vs ")
		}
		b.WriteString(o.Name)
	}
	return b.String()
}

func frontierNotes(out *Outputs, opt OutputOptions, caveats []string) []string {
	ok := 0
	for _, s := range out.Stats {
		if s.OK() {
			ok++
		}
	}
	m := opt.Aggregate.Reward
	notes := make([]string, 0, len(caveats)+3)
	for _, c := range caveats {
		notes = append(notes, "Caveat: "+c)
	}
	return append(notes,
		fmt.Sprintf("%d of %d points on the front; %d points have a successful trial.", len(out.Front), len(out.Stats), ok),
		"Latency is the whole job in seconds without the benchmark's own work (drawing ground truth; scoring a picture's job against it), nearest-rank percentiles over measured trials (warm-ups excluded); score is the mean of Scores[\"score\"]; accept is the share of trials scoring at least the point's threshold.",
		fmt.Sprintf("accepted/h is the reward-rate model (workers: %d, validators: %d; validator cooldown rules, see the report's notes); bound says which of the two limits it.", m.Workers, m.Validators),
	)
}

func reportSummary(out *Outputs) []string {
	var lines []string
	for _, p := range out.Picks {
		s := out.Stats[p.Index]
		lines = append(lines, fmt.Sprintf("%s: %s (%s).", p.Name, s.Point.ID, p.Why))
	}
	if len(out.Picks) == 0 {
		lines = append(lines, "No point has a successful trial: no profile was chosen.")
	}
	return lines
}

// RewardModelNotes states the reward-rate model and its parameters in
// words, for reports.
func RewardModelNotes(m RewardModel) []string {
	return []string{
		fmt.Sprintf("Reward rate = accepted results per hour. Each validator hands out one task per cycle: next pull at assignment + max(c, t + c − %v) with c = %v, plus a %v penalty after a submitted result that scores below the validator's %.2f; a result below the miner's threshold is submitted empty and costs the plain cooldown.",
			m.Throttle, m.Cooldown, m.Penalty, m.ValidatorThreshold),
		fmt.Sprintf("Task rate = min(V / E[cycle], W / E[t]) with V = %d validators and W = %d workers, t the measured job time (plus %v overhead); a fluid bound that assumes pulls at cooldown expiry and always-available tasks.", m.Validators, m.Workers, m.Overhead),
		"For fidelity scores (no CLIP model) the validator's verdict is unknown and every submitted result counts as accepted.",
	}
}

// caveats are the run's own (run.json) and those its trials' records
// carry (a remote worker's models), each once, in the order first seen.
func caveats(run []string, recs []results.Record) []string {
	var out []string
	add := func(cs []string) {
		for _, c := range cs {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	add(run)
	for _, r := range recs {
		add(r.Caveats)
	}
	return out
}
