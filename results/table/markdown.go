package table

import (
	"bufio"
	"io"
	"strings"
)

// WriteMarkdown renders t as a GitHub-flavoured Markdown table under a
// "### Title" heading, with notes as paragraphs after it. Pipes and
// newlines inside cells are escaped; marked cells are bold.
func (t *Table) WriteMarkdown(w io.Writer) error {
	if err := t.Validate(); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	if t.Title != "" {
		bw.WriteString("### " + mdInline(t.Title) + "\n\n")
	}
	bw.WriteString("|")
	for _, c := range t.Columns {
		bw.WriteString(" " + mdInline(c.Header()) + " |")
	}
	bw.WriteString("\n|")
	for i := range t.Columns {
		switch t.Alignment(i) {
		case AlignRight:
			bw.WriteString("---:|")
		case AlignCenter:
			bw.WriteString(":---:|")
		default:
			bw.WriteString("---|")
		}
	}
	bw.WriteString("\n")
	for _, r := range t.Rows {
		bw.WriteString("|")
		for _, c := range r {
			s := mdInline(c.Text)
			if c.Mark && s != "" {
				s = "**" + s + "**"
			}
			bw.WriteString(" " + s + " |")
		}
		bw.WriteString("\n")
	}
	for _, n := range t.Notes {
		bw.WriteString("\n" + mdInline(n) + "\n")
	}
	return bw.Flush()
}

// mdReplacer keeps cell text literal: no table breaks, no emphasis, no
// HTML, no links.
var mdReplacer = strings.NewReplacer(
	"\\", "\\\\", "|", "\\|", "*", "\\*", "_", "\\_", "`", "\\`",
	"[", "\\[", "]", "\\]", "<", "&lt;", ">", "&gt;", "&", "&amp;",
	"\r\n", " ", "\n", " ", "\r", " ",
)

func mdInline(s string) string { return mdReplacer.Replace(s) }
