// The entry point of the renderer bundle that scripts/setup-viewer.sh
// builds with esbuild into <cache>/viewer/splat-vendor.js: three.js, its
// OrbitControls and @mkkellogg/gaussian-splats-3d as one classic script (an
// IIFE, no ES modules), so that pages load it from file:// as well as over
// HTTP. viewer.js uses the global it sets.
import * as THREE from "three";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";
import * as GaussianSplats3D from "@mkkellogg/gaussian-splats-3d";

window.SplatVendor = { THREE, OrbitControls, GaussianSplats3D };
