// viewer.js: splatbench's interactive 3D view of a Gaussian-splat file
// (PLY or SPZ), on the renderer bundle splat-vendor.js (three.js and
// gaussian-splats-3d; scripts/setup-viewer.sh builds it). A classic script
// with no imports, so that it works from file:// too. It sets
// window.SplatViewer:
//
//   SplatViewer.mount(container, bytes, type) -> Promise<view>
//       draws the splat in a canvas added to container; type "ply" or "spz".
//       Mouse: drag to orbit, wheel to zoom, right-drag to pan. Keyboard (the
//       canvas takes focus): arrows orbit, + and - zoom, 0 resets.
//       container.dataset.state goes loading -> ready (or error, with the
//       reason in words in the container); view.frames counts frames drawn;
//       view.dispose() frees it.
//   SplatViewer.register(id, base64, type)
//       called by a data script (the report's views/*.js) to hand over a
//       file's bytes; SplatViewer.fetchScript(id, src) loads such a script
//       and resolves to {bytes, type}. Scripts, unlike fetch(), load from
//       file://.
(function () {
	"use strict";

	var data = {};
	var waiting = {};

	function register(id, b64, type) {
		var bin = atob(b64);
		var bytes = new Uint8Array(bin.length);
		for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
		data[id] = { bytes: bytes, type: type };
		(waiting[id] || []).forEach(function (w) { w.resolve(data[id]); });
		delete waiting[id];
	}

	function fetchScript(id, src) {
		if (data[id]) return Promise.resolve(data[id]);
		return new Promise(function (resolve, reject) {
			var first = !waiting[id];
			(waiting[id] = waiting[id] || []).push({ resolve: resolve, reject: reject });
			if (!first) return;
			var s = document.createElement("script");
			s.src = src;
			s.onerror = function () {
				(waiting[id] || []).forEach(function (w) { w.reject(new Error("could not load " + src)); });
				delete waiting[id];
			};
			document.head.appendChild(s);
		});
	}

	var styled = false;
	function addStyle() {
		if (styled) return;
		styled = true;
		var st = document.createElement("style");
		st.textContent =
			".splat-viewer{position:relative;background:#fff;min-height:200px}" +
			".splat-viewer canvas{display:block;width:100%;height:100%;outline:none;touch-action:none}" +
			".splat-viewer canvas:focus-visible{outline:3px solid #f59e0b;outline-offset:-3px}" +
			".splat-viewer .splat-msg{position:absolute;inset:0;display:flex;align-items:center;justify-content:center;" +
			"padding:1em;text-align:center;color:#505a6b;background:#fff}" +
			".splat-viewer .splat-msg[hidden]{display:none}" +
			".splat-viewer[data-state=error] .splat-msg{color:#a11}";
		document.head.appendChild(st);
	}

	var KEY_STEP = Math.PI / 18; // 10° per arrow press

	function mount(container, bytes, type) {
		addStyle();
		container.classList.add("splat-viewer");
		container.dataset.state = "loading";
		var msg = document.createElement("div");
		msg.className = "splat-msg";
		msg.setAttribute("role", "status");
		msg.textContent = "Loading the 3D view…";
		container.appendChild(msg);
		var fail = function (err) {
			container.dataset.state = "error";
			msg.textContent = "The 3D view could not be shown: " + (err && err.message ? err.message : String(err));
			msg.hidden = false;
			throw err;
		};
		var V = window.SplatVendor;
		if (!V) return Promise.reject(new Error("splat-vendor.js is not loaded (run make setup)")).catch(fail);
		try {
			return start(container, msg, V, bytes, type).catch(fail);
		} catch (err) {
			return Promise.reject(err).catch(fail);
		}
	}

	function start(container, msg, V, bytes, type) {
		var THREE = V.THREE, GS = V.GaussianSplats3D;
		var canvas = document.createElement("canvas");
		canvas.tabIndex = 0;
		canvas.setAttribute("role", "img");
		canvas.setAttribute("aria-label", "3D view of the splat. Drag or use the arrow keys to orbit; + and - zoom; 0 resets the view.");
		container.insertBefore(canvas, msg);
		var renderer;
		try {
			renderer = new THREE.WebGLRenderer({ canvas: canvas, antialias: false, preserveDrawingBuffer: true });
		} catch (err) {
			throw new Error("WebGL is not available in this browser");
		}
		renderer.setClearColor(0xffffff, 1);
		renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
		var camera = new THREE.PerspectiveCamera(49.1, 1, 0.01, 1000);
		var controls = new V.OrbitControls(camera, canvas);
		controls.enableDamping = false;
		var viewer = new GS.Viewer({
			selfDrivenMode: false, renderer: renderer, camera: camera, useBuiltInControls: false,
			sharedMemoryForWorkers: false, gpuAcceleratedSort: false, sphericalHarmonicsDegree: 0,
			dynamicScene: false, logLevel: GS.LogLevel ? GS.LogLevel.None : 0,
		});
		var view = { frames: 0, canvas: canvas, disposed: false };
		var pending = 0, raf = 0, home = null;
		var kick = function () {
			pending = Math.max(pending, 6); // the sort runs in a worker: draw a few frames after a change
			if (!raf && !view.disposed) raf = requestAnimationFrame(tick);
		};
		var tick = function () {
			raf = 0;
			if (view.disposed || pending <= 0) return;
			pending--;
			viewer.update();
			viewer.render();
			view.frames++;
			if (view.frames === 1) {
				container.dataset.state = "ready";
				msg.hidden = true;
			}
			if (pending > 0) raf = requestAnimationFrame(tick);
		};
		var resize = function () {
			var w = Math.max(1, container.clientWidth), h = Math.max(1, container.clientHeight);
			renderer.setSize(w, h, false);
			camera.aspect = w / h;
			camera.updateProjectionMatrix();
			kick();
		};
		controls.addEventListener("change", kick);
		var ro = new ResizeObserver(resize);
		var orbit = function (dAz, dEl) {
			var off = camera.position.clone().sub(controls.target);
			var sph = new THREE.Spherical().setFromVector3(off);
			sph.theta += dAz;
			sph.phi = Math.min(Math.PI - 0.05, Math.max(0.05, sph.phi - dEl));
			camera.position.copy(controls.target).add(new THREE.Vector3().setFromSpherical(sph));
			controls.update();
		};
		var zoom = function (f) {
			var off = camera.position.clone().sub(controls.target).multiplyScalar(f);
			camera.position.copy(controls.target).add(off);
			controls.update();
		};
		var reset = function () {
			if (!home) return;
			controls.target.copy(home.target);
			camera.position.copy(home.position);
			controls.update();
		};
		canvas.addEventListener("keydown", function (e) {
			var handled = true;
			switch (e.key) {
				case "ArrowLeft": orbit(-KEY_STEP, 0); break;
				case "ArrowRight": orbit(KEY_STEP, 0); break;
				case "ArrowUp": orbit(0, KEY_STEP); break;
				case "ArrowDown": orbit(0, -KEY_STEP); break;
				case "+": case "=": zoom(1 / 1.2); break;
				case "-": case "_": zoom(1.2); break;
				case "0": case "Home": reset(); break;
				default: handled = false;
			}
			if (handled) e.preventDefault();
		});
		view.orbit = orbit;
		view.zoom = zoom;
		view.reset = reset;
		view.dispose = function () {
			view.disposed = true;
			if (raf) cancelAnimationFrame(raf);
			ro.disconnect();
			controls.dispose();
			Promise.resolve(viewer.dispose()).catch(function () {});
			renderer.dispose();
			canvas.remove();
			msg.remove();
		};
		var url = URL.createObjectURL(new Blob([bytes]));
		var format = type === "spz" ? GS.SceneFormat.Spz : GS.SceneFormat.Ply;
		return viewer.addSplatScene(url, {
			format: format, showLoadingUI: false, progressiveLoad: false, splatAlphaRemovalThreshold: 1,
		}).then(function () {
			URL.revokeObjectURL(url);
			if (view.disposed) return view;
			home = frame(THREE, viewer, camera, controls);
			ro.observe(container);
			resize();
			return view;
		}, function (err) {
			URL.revokeObjectURL(url);
			throw new Error("the " + type.toUpperCase() + " file did not load: " + (err && err.message ? err.message : err));
		});
	}

	// frame points the camera at the splat centres' box from the validator's
	// first view direction (azimuth 0, 15° above), far enough to see it all.
	function frame(THREE, viewer, camera, controls) {
		var mesh = viewer.getSplatMesh();
		var n = mesh.getSplatCount();
		var box = new THREE.Box3(), p = new THREE.Vector3();
		var step = Math.max(1, Math.floor(n / 50000));
		for (var i = 0; i < n; i += step) {
			mesh.getSplatCenter(i, p);
			box.expandByPoint(p);
		}
		var target = box.isEmpty() ? new THREE.Vector3() : box.getCenter(new THREE.Vector3());
		var size = box.isEmpty() ? 1 : Math.max(1e-3, box.getSize(new THREE.Vector3()).length());
		var dist = (0.5 * size) / Math.tan((camera.fov * Math.PI) / 360) * 1.15;
		var el = (15 * Math.PI) / 180;
		camera.near = dist / 100;
		camera.far = dist * 100;
		camera.position.set(target.x, target.y + dist * Math.sin(el), target.z + dist * Math.cos(el));
		controls.target.copy(target);
		controls.update();
		return { target: target.clone(), position: camera.position.clone() };
	}

	window.SplatViewer = { mount: mount, register: register, fetchScript: fetchScript };
})();
