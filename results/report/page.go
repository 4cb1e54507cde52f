package report

import "html/template"

// page is the whole HTML document. The CSS is inline and the page needs
// no script; figures are inline SVG scaled to the column width.
var page = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;margin:0;background:#f6f7f9}
main{max-width:1040px;margin:0 auto;padding:24px 28px 40px;background:#fff}
h1{font-size:1.7em;margin:.2em 0 .6em}
h2{font-size:1.3em;margin:1.8em 0 .5em;padding-top:.4em;border-top:1px solid #dde1e7}
h3{font-size:1.05em;margin:1.2em 0 .4em}
nav ol{margin:.2em 0 1em;padding-left:1.4em}
table{border-collapse:collapse;margin:.4em 0 .6em;font-variant-numeric:tabular-nums}
th,td{padding:.28em .7em;border-bottom:1px solid #e3e6eb;vertical-align:top}
th{background:#eef1f5;font-weight:600;border-bottom:2px solid #c9ced6}
tr:nth-child(even) td{background:#fafbfc}
td.l,th.l{text-align:left}td.r,th.r{text-align:right}td.c,th.c{text-align:center}
td.mark{background:#fff3d6 !important;font-weight:600}
table.meta th{text-align:left;background:none;border-bottom:1px solid #e3e6eb;font-weight:600;white-space:nowrap}
table.meta td{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.9em;word-break:break-all}
.scroll{overflow-x:auto}
figure{margin:1em 0}
figure svg{max-width:100%;height:auto;display:block}
figcaption{color:#505a6b;font-size:.92em;margin-top:.3em}
p.note{color:#505a6b;font-size:.92em;margin:.3em 0}
footer{color:#7a8394;font-size:.85em;margin-top:2.5em;border-top:1px solid #dde1e7;padding-top:.6em}
</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
{{- if .Meta}}
<table class="meta">
{{- range .Meta}}
<tr><th>{{.Key}}</th><td>{{.Value}}</td></tr>
{{- end}}
</table>
{{- end}}
{{- range .Summary}}
<p>{{.}}</p>
{{- end}}
{{- if gt (len .Sections) 1}}
<nav><ol>
{{- range .Sections}}
<li><a href="#{{.ID}}">{{.Title}}</a></li>
{{- end}}
</ol></nav>
{{- end}}
{{- range .Sections}}
<section id="{{.ID}}">
<h2>{{.Title}}</h2>
{{- range .Intro}}
<p>{{.}}</p>
{{- end}}
{{- range .Tables}}
{{- if .Title}}
<h3>{{.Title}}</h3>
{{- end}}
<div class="scroll"><table>
<thead><tr>{{range .Headers}}<th class="{{.Class}}">{{.Text}}</th>{{end}}</tr></thead>
<tbody>
{{- range .Rows}}
<tr>{{range .}}<td class="{{.Class}}{{if .Mark}} mark{{end}}">{{.Text}}</td>{{end}}</tr>
{{- end}}
</tbody>
</table></div>
{{- range .Notes}}
<p class="note">{{.}}</p>
{{- end}}
{{- end}}
{{- range .Figures}}
<figure>
{{.SVG}}
{{- if .Caption}}
<figcaption>{{.Caption}}</figcaption>
{{- end}}
</figure>
{{- end}}
{{- range .Notes}}
<p class="note">{{.}}</p>
{{- end}}
</section>
{{- end}}
{{- if .Notes}}
<h2>Notes</h2>
{{- range .Notes}}
<p class="note">{{.}}</p>
{{- end}}
{{- end}}
<footer>{{if .Generator}}{{.Generator}}{{else}}splatbench{{end}}{{if .Generated}} · {{.Generated}}{{end}}</footer>
</main>
</body>
</html>
`))
