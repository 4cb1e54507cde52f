package report

import "html/template"

// page is the whole HTML document. The CSS is inline; figures are inline
// SVG scaled to the column width. Only a page with splats has scripts: the
// viewer's files from ViewerDir and the gallery's few lines, which load a
// splat's data script when its button is pressed (scripts load from
// file://, fetch does not).
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
.scroll td,.scroll th{white-space:nowrap}
figure{margin:1em 0}
figure svg{max-width:100%;height:auto;display:block}
figcaption{color:#505a6b;font-size:.92em;margin-top:.3em}
p.note{color:#505a6b;font-size:.92em;margin:.3em 0}
p.caveat{border-left:4px solid #b45309;background:#fffbeb;color:#451a03;padding:.5em .8em;margin:.8em 0}
.splats{display:grid;grid-template-columns:minmax(12em,1fr) minmax(0,2fr);gap:12px;align-items:start}
@media (max-width:700px){.splats{grid-template-columns:minmax(0,1fr)}}
.splats ul{list-style:none;margin:0;padding:0}
.splats li{margin:.3em 0}
.splats button{font:inherit;padding:.3em .7em;border:1px solid #1d4ed8;border-radius:5px;background:#fff;color:#1d4ed8;cursor:pointer;text-align:left}
.splats button[aria-pressed=true]{background:#2563eb;color:#fff}
.splats button:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.splat-panel{border:1px solid #dde1e7;border-radius:6px;padding:6px}
.splat-view{width:100%;aspect-ratio:1;min-height:220px}
footer{color:#7a8394;font-size:.85em;margin-top:2.5em;border-top:1px solid #dde1e7;padding-top:.6em}
</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
{{- range .Caveats}}
<p class="caveat" role="note"><strong>Caveat:</strong> {{.}}</p>
{{- end}}
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
{{- if .Splats}}
<div class="splats">
<ul>
{{- range .Splats}}
<li><button type="button" aria-pressed="false" data-id="{{.ID}}" data-src="{{.Script}}">{{.Title}}</button>{{if .Caption}} <span class="note">{{.Caption}}</span>{{end}}</li>
{{- end}}
</ul>
<div class="splat-panel"><p class="note splat-title" aria-live="polite">Press a button to view that output in 3D (drag or arrow keys to orbit, +/− zoom).</p><div class="splat-view"></div></div>
</div>
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
{{- if .ViewerDir}}
<script src="{{.ViewerDir}}/splat-vendor.js"></script>
<script src="{{.ViewerDir}}/viewer.js"></script>
<script>
document.querySelectorAll(".splats").forEach(function (g) {
	var panel = g.querySelector(".splat-view"), title = g.querySelector(".splat-title"), current = null;
	g.querySelectorAll("button[data-id]").forEach(function (b) {
		b.addEventListener("click", function () {
			g.querySelectorAll("button[data-id]").forEach(function (o) { o.setAttribute("aria-pressed", String(o === b)); });
			if (current) { current.dispose(); current = null; }
			panel.textContent = "";
			delete panel.dataset.state;
			title.textContent = b.textContent + ": loading…";
			if (!window.SplatViewer) { title.textContent = "The 3D viewer's files are missing from this folder."; return; }
			SplatViewer.fetchScript(b.dataset.id, b.dataset.src).then(function (d) {
				return SplatViewer.mount(panel, d.bytes, d.type);
			}).then(function (v) {
				current = v;
				title.textContent = b.textContent;
				v.canvas.focus();
			}).catch(function (err) { title.textContent = b.textContent + ": " + err.message; });
		});
	});
});
</script>
{{- end}}
</body>
</html>
`))
