package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// checkSVG accepts a single <svg> element whose content cannot run code or
// reach the network once inlined: no script or foreignObject elements, no
// on* event attributes, no href other than a local "#fragment", no
// url() other than local references in styles.
func checkSVG(b []byte) error {
	b = bytes.TrimSpace(b)
	if !bytes.HasPrefix(b, []byte("<svg")) {
		return errors.New("svg: does not start with <svg (use plot.Figure.SVG)")
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	depth, roots := 0, 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("svg: offset %d: %w", dec.InputOffset(), err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
			name := strings.ToLower(t.Name.Local)
			if name == "script" || name == "foreignobject" || name == "iframe" {
				return fmt.Errorf("svg: offset %d: <%s> is not allowed", dec.InputOffset(), t.Name.Local)
			}
			for _, a := range t.Attr {
				if err := checkAttr(a); err != nil {
					return fmt.Errorf("svg: offset %d: <%s>: %w", dec.InputOffset(), t.Name.Local, err)
				}
			}
		case xml.EndElement:
			depth--
		case xml.ProcInst, xml.Directive:
			return fmt.Errorf("svg: offset %d: processing instructions and directives are not allowed", dec.InputOffset())
		}
	}
	if roots != 1 {
		return fmt.Errorf("svg: %d top-level elements, want one <svg>", roots)
	}
	return nil
}

func checkAttr(a xml.Attr) error {
	name := strings.ToLower(a.Name.Local)
	val := strings.ToLower(strings.Join(strings.Fields(a.Value), ""))
	switch {
	case strings.HasPrefix(name, "on"):
		return fmt.Errorf("event attribute %s", a.Name.Local)
	case name == "href" && !strings.HasPrefix(val, "#"):
		return fmt.Errorf("href %q is not a local reference", a.Value)
	case strings.Contains(val, "url(") && !strings.Contains(val, "url(#"):
		return fmt.Errorf("attribute %s refers outside the document", a.Name.Local)
	case strings.Contains(val, "javascript:"):
		return fmt.Errorf("attribute %s holds a script URL", a.Name.Local)
	}
	return nil
}
