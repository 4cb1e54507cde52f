package table

import (
	"fmt"
	"io"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// WriteText renders t as an ASCII table (title line, bordered grid, notes)
// for terminals and summary.txt. Marked cells get a trailing "*".
func (t *Table) WriteText(w io.Writer) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if t.Title != "" {
		if _, err := fmt.Fprintf(w, "%s\n", t.Title); err != nil {
			return err
		}
	}
	aligns := make([]tw.Align, len(t.Columns))
	headers := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		aligns[i] = twAlign(t.Alignment(i))
		headers[i] = c.Header()
	}
	tab := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Symbols: tw.NewSymbols(tw.StyleASCII),
		})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignCenter),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithTrimSpace(tw.Off),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: aligns}),
	)
	tab.Header(headers...)
	// In a column with marks, unmarked cells get a space where the "*"
	// would be, so right-aligned digits stay aligned.
	marked := make([]bool, len(t.Columns))
	for _, r := range t.Rows {
		for i, c := range r {
			marked[i] = marked[i] || c.Mark
		}
	}
	for _, r := range t.Rows {
		row := make([]string, len(r))
		for i, c := range r {
			row[i] = c.Text
			switch {
			case c.Mark:
				row[i] += "*"
			case marked[i]:
				row[i] += " "
			}
		}
		if err := tab.Append(row); err != nil {
			return fmt.Errorf("table %q: %w", t.Title, err)
		}
	}
	if err := tab.Render(); err != nil {
		return fmt.Errorf("table %q: %w", t.Title, err)
	}
	for _, n := range t.Notes {
		if _, err := fmt.Fprintf(w, "%s\n", n); err != nil {
			return err
		}
	}
	return nil
}

func twAlign(a Align) tw.Align {
	switch a {
	case AlignRight:
		return tw.AlignRight
	case AlignCenter:
		return tw.AlignCenter
	default:
		return tw.AlignLeft
	}
}
