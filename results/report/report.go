// Package report writes a run's report: one HTML page (inline CSS, inline
// SVG figures, no network) holding the run metadata and any number of
// sections of tables, figures and splats to view in 3D. A page without
// splats has no script and stands alone; one with splats loads the
// viewer's files and the splats' data scripts from its own folder
// (results/viewer), so the folder opens from disk. Everything
// that comes from the run (prompts, profile names, error texts) is escaped
// by html/template; figures must be SVG from package plot and are checked
// before they are inlined.
package report

import (
	"fmt"
	"html/template"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/splatbench/splatbench/results/table"
)

// Report is one HTML page.
type Report struct {
	Title string
	// Meta is the run metadata table shown first; see MetaRows.
	Meta []table.KeyValue
	// Caveats are shown, marked, right under the title: what every reader
	// of the numbers must know (results.Meta.Caveats).
	Caveats []string
	// Summary paragraphs shown under the metadata.
	Summary  []string
	Sections []Section
	// Notes close the page (method, caveats).
	Notes []string
	// Generated and Generator go in the footer ("splatbench v0.3.0").
	Generated time.Time
	Generator string
	// ViewerDir is the folder, relative to the page, that holds the 3D
	// viewer's files (viewer.Assets.WriteDir); needed when a section has
	// splats.
	ViewerDir string
}

// Section is a headed part of the report.
type Section struct {
	Title string
	// Intro paragraphs come before the tables.
	Intro   []string
	Tables  []*table.Table
	Figures []Figure
	// Splats are outputs to view in 3D, one at a time, in a panel.
	Splats []Splat
	Notes  []string
}

// Splat is one splat file to view in 3D: Script is the data script
// (viewer.DataScript with id ID) relative to the page.
type Splat struct {
	Title   string
	Caption string
	ID      string
	Script  string
}

// Figure is an inline SVG with a caption.
type Figure struct {
	Caption string
	// SVG is a bare <svg> element, as plot.Figure.SVG returns it.
	SVG []byte
}

// Write renders r as HTML to w.
func Write(w io.Writer, r Report) error {
	v, err := buildView(r)
	if err != nil {
		return err
	}
	if err := page.Execute(w, v); err != nil {
		return fmt.Errorf("report %q: %w", r.Title, err)
	}
	return nil
}

// view is the report prepared for the template: tables turned into cells
// with classes, figures checked and marked safe.
type view struct {
	ViewerDir string
	Title     string
	Caveats   []string
	Meta      []table.KeyValue
	Summary   []string
	Sections  []sectionView
	Notes     []string
	Generated string
	Generator string
}

type sectionView struct {
	Title   string
	ID      string
	Intro   []string
	Tables  []tableView
	Figures []figureView
	Splats  []Splat
	Notes   []string
}

type tableView struct {
	Title   string
	Headers []cellView
	Rows    [][]cellView
	Notes   []string
}

type cellView struct {
	Text  string
	Class string
	Mark  bool
}

type figureView struct {
	Caption string
	SVG     template.HTML
}

func buildView(r Report) (view, error) {
	v := view{Title: r.Title, Caveats: r.Caveats, Meta: r.Meta, Summary: r.Summary, Notes: r.Notes, Generator: r.Generator}
	if !r.Generated.IsZero() {
		v.Generated = r.Generated.UTC().Format(time.RFC3339)
	}
	for si, s := range r.Sections {
		sv := sectionView{Title: s.Title, ID: fmt.Sprintf("s%d", si+1), Intro: s.Intro, Notes: s.Notes}
		for ti, t := range s.Tables {
			tv, err := buildTable(t)
			if err != nil {
				return view{}, fmt.Errorf("report %q: section %q: table %d: %w", r.Title, s.Title, ti+1, err)
			}
			sv.Tables = append(sv.Tables, tv)
		}
		for fi, f := range s.Figures {
			if err := checkSVG(f.SVG); err != nil {
				return view{}, fmt.Errorf("report %q: section %q: figure %d (%s): %w", r.Title, s.Title, fi+1, f.Caption, err)
			}
			// Checked above: a single svg element without scripts,
			// event handlers or external references.
			sv.Figures = append(sv.Figures, figureView{Caption: f.Caption, SVG: template.HTML(f.SVG)}) //nolint:gosec
		}
		for _, sp := range s.Splats {
			if err := checkSplat(sp); err != nil {
				return view{}, fmt.Errorf("report %q: section %q: splat %q: %w", r.Title, s.Title, sp.Title, err)
			}
			if r.ViewerDir == "" || !relPath.MatchString(r.ViewerDir) {
				return view{}, fmt.Errorf("report %q: section %q has splats: ViewerDir %q must be a relative folder", r.Title, s.Title, r.ViewerDir)
			}
			v.ViewerDir = r.ViewerDir
		}
		sv.Splats = s.Splats
		v.Sections = append(v.Sections, sv)
	}
	return v, nil
}

func buildTable(t *table.Table) (tableView, error) {
	if t == nil {
		return tableView{}, fmt.Errorf("nil table")
	}
	if err := t.Validate(); err != nil {
		return tableView{}, err
	}
	tv := tableView{Title: t.Title, Notes: t.Notes}
	classes := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		classes[i] = alignClass(t.Alignment(i))
		tv.Headers = append(tv.Headers, cellView{Text: c.Header(), Class: classes[i]})
	}
	for _, row := range t.Rows {
		cells := make([]cellView, len(row))
		for i, c := range row {
			cells[i] = cellView{Text: c.Text, Class: classes[i], Mark: c.Mark}
		}
		tv.Rows = append(tv.Rows, cells)
	}
	return tv, nil
}

func alignClass(a table.Align) string {
	switch a {
	case table.AlignRight:
		return "r"
	case table.AlignCenter:
		return "c"
	default:
		return "l"
	}
}

// relPath is a relative path inside the report's folder: no "..", no
// scheme, no leading slash.
var relPath = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_./-]*$`)

var splatID = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

func checkSplat(sp Splat) error {
	switch {
	case !splatID.MatchString(sp.ID):
		return fmt.Errorf("id %q: want 1-128 letters, digits, '.', '_' or '-'", sp.ID)
	case !relPath.MatchString(sp.Script) || strings.Contains(sp.Script, "..") || !strings.HasSuffix(sp.Script, ".js"):
		return fmt.Errorf("script %q: want a relative .js path inside the report's folder", sp.Script)
	}
	return nil
}
