package table

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func frontierTable() *Table {
	t := &Table{
		Title: "Pareto front: latency vs CLIP score",
		Columns: []Column{
			{Name: "profile"},
			{Name: "flux steps"},
			{Name: "fit iters"},
			{Name: "p90 latency", Unit: "s"},
			{Name: "clip", Align: AlignCenter},
			{Name: "note"},
		},
		Notes: []string{"* on the Pareto front.", "Latency is wall time per job, warm-up excluded."},
	}
	t.AddRow(Text("fast"), Int(1), Int(500), Number(2.3456, 2).Marked(), Number(0.281234, 3), Text(""))
	t.AddRow(Text("balanced"), Int(2), Int(1000), Number(4.1, 2).Marked(), Number(0.30456, 3).Marked(), Text("chosen"))
	t.AddRow(Text("slow | careful"), Int(4), Int(2000), Number(9.87654, 2), Number(math.NaN(), 3), Text(`fit failed: "OOM", retry`))
	return t
}

func TestRenderGolden(t *testing.T) {
	t.Parallel()
	tab := frontierTable()
	for _, r := range []struct {
		file  string
		write func(*Table, *bytes.Buffer) error
	}{
		{"frontier.txt", func(t *Table, b *bytes.Buffer) error { return t.WriteText(b) }},
		{"frontier.md", func(t *Table, b *bytes.Buffer) error { return t.WriteMarkdown(b) }},
		{"frontier.csv", func(t *Table, b *bytes.Buffer) error { return t.WriteCSV(b) }},
	} {
		t.Run(r.file, func(t *testing.T) {
			var buf bytes.Buffer
			if err := r.write(tab, &buf); err != nil {
				t.Fatal(err)
			}
			golden(t, r.file, buf.Bytes())
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	bad := []*Table{
		{Title: "none"},
		{Title: "short row", Columns: []Column{{Name: "a"}, {Name: "b"}}, Rows: [][]Cell{{Text("x")}}},
		{Title: "long row", Columns: []Column{{Name: "a"}}, Rows: [][]Cell{{Text("x"), Text("y")}}},
	}
	for _, tab := range bad {
		var buf bytes.Buffer
		for name, err := range map[string]error{
			"text": tab.WriteText(&buf), "markdown": tab.WriteMarkdown(&buf), "csv": tab.WriteCSV(&buf),
		} {
			if err == nil || !strings.Contains(err.Error(), tab.Title) {
				t.Errorf("%s %q: err = %v, want an error naming the table", name, tab.Title, err)
			}
		}
	}
}

func TestAlignment(t *testing.T) {
	t.Parallel()
	tab := &Table{Columns: []Column{{Name: "n"}, {Name: "mixed"}, {Name: "forced", Align: AlignLeft}, {Name: "empty"}}}
	tab.AddRow(Int(1), Int(2), Int(3), Text(""))
	tab.AddRow(Int(1), Text("x"), Int(3), Text(""))
	got := []Align{tab.Alignment(0), tab.Alignment(1), tab.Alignment(2), tab.Alignment(3)}
	if diff := cmp.Diff([]Align{AlignRight, AlignLeft, AlignLeft, AlignLeft}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestMarkdownEscaping(t *testing.T) {
	t.Parallel()
	tab := &Table{Columns: []Column{{Name: "a|b"}}}
	tab.AddRow(Text("x|y\n*z* <b> [l](u) \\"))
	var buf bytes.Buffer
	if err := tab.WriteMarkdown(&buf); err != nil {
		t.Fatal(err)
	}
	want := "| a\\|b |\n|---|\n| x\\|y \\*z\\* &lt;b&gt; \\[l\\](u) \\\\ |\n"
	if got := buf.String(); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestNumberCells(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cell Cell
		want string
	}{
		{Number(1.23456, 2), "1.23"},
		{Number(2, 0), "2"},
		{Number(0.1, -1), "0.1"},
		{Number(math.NaN(), 2), Missing},
		{Int(-42), "-42"},
	}
	for _, tt := range tests {
		if tt.cell.Text != tt.want || !tt.cell.Numeric {
			t.Errorf("cell %+v, want text %q", tt.cell, tt.want)
		}
	}
}
