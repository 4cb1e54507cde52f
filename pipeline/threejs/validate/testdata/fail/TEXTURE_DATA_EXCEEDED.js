export default function generate(THREE) {
  const w = 1100, h = 1000;
  const data = new Uint8Array(w * h * 4).fill(128);
  const tex = new THREE.DataTexture(data, w, h, THREE.RGBAFormat);
  tex.needsUpdate = true;
  return new THREE.Mesh(new THREE.BoxGeometry(0.4, 0.4, 0.4), new THREE.MeshStandardMaterial({ map: tex }));
}
