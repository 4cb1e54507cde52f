// A lathed vase with a striped DataTexture computed in code.
export default function generate(THREE) {
  const pts = [];
  for (let i = 0; i <= 20; i++) {
    const t = i / 20;
    pts.push(new THREE.Vector2(0.12 + 0.15 * Math.sin(t * Math.PI), t * 0.8 - 0.4));
  }
  const size = 64;
  const data = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 4;
      const stripe = (y >> 3) % 2;
      data[i] = stripe ? 200 : 40;
      data[i + 1] = 90;
      data[i + 2] = stripe ? 40 : 180;
      data[i + 3] = 255;
    }
  }
  const tex = new THREE.DataTexture(data, size, size, THREE.RGBAFormat);
  tex.colorSpace = THREE.SRGBColorSpace;
  tex.needsUpdate = true;
  const mat = new THREE.MeshStandardMaterial({ map: tex, roughness: 0.6, side: THREE.DoubleSide });
  return new THREE.Mesh(new THREE.LatheGeometry(pts, 48), mat);
}
