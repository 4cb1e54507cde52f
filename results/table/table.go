// Package table builds result tables apart from rendering them, in the
// golang/perf benchtab manner: a Table is plain data (title, typed
// columns, rows of cells, notes) and WriteText, WriteMarkdown and WriteCSV
// render it. WriteBench writes the Go benchmark format that benchstat
// reads. The HTML report renders the same Table itself.
//
// The package formats numbers but computes nothing: statistics belong to
// package results and Pareto analysis to the tuner.
package table

import (
	"fmt"
	"math"
	"strconv"
)

// Align is a column's horizontal alignment.
type Align int

const (
	// AlignAuto right-aligns a column whose cells are all numeric and
	// left-aligns any other.
	AlignAuto Align = iota
	AlignLeft
	AlignRight
	AlignCenter
)

// Column describes one column.
type Column struct {
	Name string
	// Unit is shown after the name, "latency (s)"; empty for none.
	Unit  string
	Align Align
}

// Header is the column's heading: the name with the unit in parentheses.
func (c Column) Header() string {
	if c.Unit == "" {
		return c.Name
	}
	return c.Name + " (" + c.Unit + ")"
}

// Cell is one table cell: the text people read and, for numeric cells,
// the exact value that CSV carries.
type Cell struct {
	Text string
	// Value is the number behind Text when Numeric is set.
	Value   float64
	Numeric bool
	// Mark emphasises the cell (Pareto front, chosen profile): bold in
	// Markdown and HTML, a trailing "*" in text.
	Mark bool
}

// Missing is the text of a cell with no value (NaN, a stage that did not
// run).
const Missing = "—"

// Text is a text cell.
func Text(s string) Cell { return Cell{Text: s} }

// Number is a numeric cell shown with the given number of decimals
// (negative: the shortest exact form). NaN is shown as Missing.
func Number(v float64, decimals int) Cell {
	if math.IsNaN(v) {
		return Cell{Text: Missing, Value: v, Numeric: true}
	}
	return Cell{Text: strconv.FormatFloat(v, 'f', decimals, 64), Value: v, Numeric: true}
}

// Int is an integer cell.
func Int(n int64) Cell {
	return Cell{Text: strconv.FormatInt(n, 10), Value: float64(n), Numeric: true}
}

// Marked returns c emphasised.
func (c Cell) Marked() Cell { c.Mark = true; return c }

// Table is a titled grid of cells with notes under it.
type Table struct {
	Title   string
	Columns []Column
	Rows    [][]Cell
	// Notes are printed below the table, one paragraph each.
	Notes []string
}

// AddRow appends a row.
func (t *Table) AddRow(cells ...Cell) { t.Rows = append(t.Rows, cells) }

// Validate checks that every row has one cell per column.
func (t *Table) Validate() error {
	if len(t.Columns) == 0 {
		return fmt.Errorf("table %q: no columns", t.Title)
	}
	for i, r := range t.Rows {
		if len(r) != len(t.Columns) {
			return fmt.Errorf("table %q: row %d has %d cells, want %d", t.Title, i+1, len(r), len(t.Columns))
		}
	}
	return nil
}

// Alignment resolves AlignAuto for column i.
func (t *Table) Alignment(i int) Align {
	if a := t.Columns[i].Align; a != AlignAuto {
		return a
	}
	numeric := false
	for _, r := range t.Rows {
		if i >= len(r) {
			continue
		}
		if !r[i].Numeric {
			return AlignLeft
		}
		numeric = true
	}
	if numeric {
		return AlignRight
	}
	return AlignLeft
}
