package table

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
)

// WriteCSV renders t as CSV: one header row of column headings, then the
// rows. Numeric cells carry their exact value (shortest form that reads
// back to the same float64), not the rounded text; NaN is an empty field.
// Title and notes are left out so the file stays plain data.
func (t *Table) WriteCSV(w io.Writer) error {
	if err := t.Validate(); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	rec := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		rec[i] = c.Header()
	}
	if err := cw.Write(rec); err != nil {
		return fmt.Errorf("table %q: csv: %w", t.Title, err)
	}
	for _, r := range t.Rows {
		for i, c := range r {
			switch {
			case !c.Numeric:
				rec[i] = c.Text
			case math.IsNaN(c.Value):
				rec[i] = ""
			default:
				rec[i] = strconv.FormatFloat(c.Value, 'g', -1, 64)
			}
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("table %q: csv: %w", t.Title, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("table %q: csv: %w", t.Title, err)
	}
	return nil
}
