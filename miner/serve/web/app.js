// app.js drives serve's web page: submit to POST /jobs, poll GET /jobs/{id},
// show the result. Every failure ends in words in #error, never a spinner
// left turning. ?timeout=MS sets how long one request may take (default
// 20 s); ?poll=MS the polling interval (default 500 ms).
(function () {
	"use strict";
	var $ = function (id) { return document.getElementById(id); };
	var params = new URLSearchParams(location.search);
	var REQUEST_MS = Number(params.get("timeout")) || 20000;
	var POLL_MS = Number(params.get("poll")) || 500;
	var MAX_POLL_FAILURES = 3;

	var form = $("gen"), go = $("go"), prompt = $("prompt"), image = $("image"), seed = $("seed");
	var drop = $("drop"), imgname = $("imgname"), clearimg = $("clearimg");
	var progress = $("progress"), state = $("state"), stages = $("stages"), spinner = $("spinner");
	var errorBox = $("error"), result = $("result");
	var dropped = null; // a File dropped on the zone (a file input cannot be set from a drop everywhere)
	var view = null;
	var running = false;

	// page is read by the tests: the job's last status and what the page did.
	window.page = { status: null, error: null, phase: "idle" };

	function setPhase(p) { window.page.phase = p; document.body.dataset.phase = p; }
	setPhase("idle");

	function chosenImage() { return dropped || (image.files && image.files[0]) || null; }

	function showImageName() {
		var f = chosenImage();
		imgname.textContent = f ? "Image: " + f.name + " (" + Math.round(f.size / 1024) + " KiB)" : "";
		clearimg.hidden = !f;
	}
	image.addEventListener("change", function () { dropped = null; showImageName(); });
	clearimg.addEventListener("click", function () {
		dropped = null;
		image.value = "";
		showImageName();
		image.focus();
	});
	["dragenter", "dragover"].forEach(function (t) {
		drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.add("over"); });
	});
	["dragleave", "drop"].forEach(function (t) {
		drop.addEventListener(t, function () { drop.classList.remove("over"); });
	});
	drop.addEventListener("drop", function (e) {
		e.preventDefault();
		var f = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
		if (!f) return;
		if (!/^image\/(png|jpeg)$/.test(f.type)) {
			fail("The dropped file " + f.name + " is not a PNG or JPEG image.");
			return;
		}
		dropped = f;
		showImageName();
	});

	// request fetches url with a deadline; it rejects with an Error whose
	// message is in words.
	function request(url, opts) {
		var ctl = new AbortController();
		var timer = setTimeout(function () { ctl.abort(); }, REQUEST_MS);
		opts = Object.assign({ signal: ctl.signal, cache: "no-store" }, opts || {});
		return fetch(url, opts).then(function (r) {
			clearTimeout(timer);
			return r;
		}, function (err) {
			clearTimeout(timer);
			if (err && err.name === "AbortError") {
				throw new Error("The service did not answer within " + Math.round(REQUEST_MS / 1000) + " s.");
			}
			throw new Error("Could not reach the service (" + (err && err.message ? err.message : err) + ").");
		});
	}

	// explain turns an HTTP error answer into words.
	function explain(r) {
		return r.text().then(function (text) {
			var msg = text;
			try { msg = JSON.parse(text).error || text; } catch (e) { /* not JSON: keep the text */ }
			msg = (msg || r.statusText || "").trim();
			switch (r.status) {
				case 429:
					var after = r.headers.get("Retry-After");
					return "The service is busy: " + msg + (after && msg.indexOf("retry in") < 0 ? " Try again in " + after + " s." : "") + " (HTTP 429)";
				case 400: case 413: case 415: case 422:
					return "The service did not accept the request: " + msg + " (HTTP " + r.status + ")";
				case 503:
					return "The service is not available: " + msg + " (HTTP 503)";
				case 504:
					return "The generation timed out: " + msg + " (HTTP 504)";
				default:
					return "The service answered HTTP " + r.status + (msg ? ": " + msg : "") + ".";
			}
		});
	}

	function fail(msg) {
		running = false;
		go.disabled = false;
		spinner.hidden = true;
		progress.hidden = true;
		errorBox.textContent = msg;
		errorBox.hidden = false;
		window.page.error = msg;
		setPhase("error");
	}

	function showProgress(st) {
		window.page.status = st;
		progress.hidden = false;
		spinner.hidden = false;
		if (st.state === "queued") {
			state.textContent = st.position > 1 ? "Queued: " + (st.position - 1) + " job(s) ahead of this one." : "Queued: next in line.";
		} else if (st.state === "running") {
			state.textContent = st.stage ? "Running: stage " + st.stage + "…" : "Running…";
		}
		stages.textContent = "";
		(st.stages || []).forEach(function (name, i, all) {
			var li = document.createElement("li");
			li.textContent = name;
			li.className = i === all.length - 1 && st.state === "running" ? "now" : "done";
			stages.appendChild(li);
		});
	}

	form.addEventListener("submit", function (e) {
		e.preventDefault();
		if (running) return;
		var text = prompt.value.trim(), img = chosenImage();
		if (!text && !img) {
			fail("Type a prompt or choose an image first.");
			prompt.focus();
			return;
		}
		if (text && img) {
			fail("Give either a text prompt or an image, not both: clear one of them.");
			return;
		}
		var body = new FormData();
		if (img) body.append("prompt_image_file", img, img.name);
		else body.append("prompt", text);
		if (seed.value !== "") body.append("seed", seed.value);
		submit(body);
	});

	function submit(body) {
		running = true;
		go.disabled = true;
		errorBox.hidden = true;
		window.page.error = null;
		result.hidden = true;
		if (view) { view.dispose(); view = null; window.page.view = null; }
		progress.hidden = false;
		spinner.hidden = false;
		stages.textContent = "";
		state.textContent = "Submitting…";
		setPhase("submitting");
		request("jobs", { method: "POST", body: body }).then(function (r) {
			if (r.status !== 202) return explain(r).then(fail);
			return r.json().then(function (st) {
				setPhase("waiting");
				showProgress(st);
				poll(st.url, 0);
			});
		}).catch(function (err) { fail(err.message); });
	}

	function poll(url, failures) {
		setTimeout(function () {
			request(url.replace(/^\//, "")).then(function (r) {
				if (!r.ok) {
					return explain(r).then(function (msg) {
						if (r.status >= 500 && failures + 1 < MAX_POLL_FAILURES) return poll(url, failures + 1);
						fail("Lost track of the job: " + msg);
					});
				}
				return r.json().then(function (st) {
					if (st.state === "done") return done(st);
					if (st.state === "failed") {
						window.page.status = st;
						var msg = st.code === 504 ? "The generation timed out: " + st.error :
							st.code === 503 ? "The service stopped before the job ran: " + st.error :
							"The generation failed: " + st.error;
						return fail(msg + (st.code ? " (HTTP " + st.code + ")" : ""));
					}
					showProgress(st);
					poll(url, 0);
				});
			}).catch(function (err) {
				if (failures + 1 < MAX_POLL_FAILURES) return poll(url, failures + 1);
				fail("Lost track of the job: " + err.message);
			});
		}, POLL_MS);
	}

	function fmt(x, d) { return Number(x).toFixed(d); }

	function done(st) {
		window.page.status = st;
		running = false;
		go.disabled = false;
		spinner.hidden = true;
		state.textContent = "Done in " + fmt(st.seconds, 2) + " s.";
		stages.textContent = "";
		var tb = $("timings").tBodies[0];
		tb.textContent = "";
		(st.timings || []).forEach(function (t) {
			var tr = tb.insertRow();
			tr.insertCell().textContent = t.stage + (t.reused ? " (reused)" : "");
			var c = tr.insertCell();
			c.textContent = fmt(t.seconds, 3);
			c.className = "r";
			tr.insertCell().textContent = t.device || "";
		});
		$("total").textContent = fmt(st.seconds, 3);
		var score = $("score");
		if (st.score_kind && st.score_kind !== "none" && st.score !== undefined) {
			score.textContent = "Self-check: " + st.score_kind + " score " + fmt(st.score, 4) + " — " +
				(st.accepted ? "accepted." : "below the profile's threshold.");
		} else if (st.score_kind === "none") {
			score.textContent = "Self-check: gates only (no score); " + (st.accepted ? "passed." : "failed.");
		} else {
			score.textContent = "Self-check: none in this profile.";
		}
		$("splats").textContent = st.splats.toLocaleString("en-US") + " Gaussians · seed " + st.seed;
		$("dl-ply").href = st.files.ply.replace(/^\//, "");
		$("dl-spz").href = st.files.spz.replace(/^\//, "");
		var sheet = $("sheet");
		$("sheet-caption").textContent = "Rendering the validator's 16 views…";
		sheet.onload = function () { $("sheet-caption").textContent = "The validator's 16 views (518 px each, white background)."; };
		sheet.onerror = function () { $("sheet-caption").textContent = "The validator's views could not be rendered."; };
		sheet.src = st.files.sheet.replace(/^\//, "");
		result.hidden = false;
		setPhase("done");
		$("result-title").focus();
		show3D(st.files.ply.replace(/^\//, ""));
	}

	function show3D(url) {
		var el = $("view3d");
		el.textContent = "";
		if (!window.SplatViewer || !window.SplatVendor) {
			el.dataset.state = "error";
			el.textContent = "The 3D viewer's files are not installed on the service (run make setup); the downloads and the views still work.";
			return;
		}
		request(url).then(function (r) {
			if (!r.ok) return explain(r).then(function (m) { throw new Error(m); });
			return r.arrayBuffer();
		}).then(function (b) {
			return SplatViewer.mount(el, new Uint8Array(b), "ply");
		}).then(function (v) {
			view = v;
			window.page.view = v;
		}).catch(function (err) {
			if (el.dataset.state !== "error") {
				el.dataset.state = "error";
				el.textContent = "The 3D view could not be shown: " + err.message;
			}
		});
	}
})();
