export default function generate(THREE) {
  const keep = [];
  for (let i = 0; i < 100; i++) keep.push(new Array(2000000).fill(i + 0.5));
  return new THREE.Mesh(new THREE.BoxGeometry(0.4, 0.4, 0.4), new THREE.MeshStandardMaterial());
}
