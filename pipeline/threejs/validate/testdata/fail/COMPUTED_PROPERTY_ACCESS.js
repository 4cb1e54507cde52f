export default function generate(THREE) {
  const Geo = THREE['Box' + 'Geometry'];
  return new THREE.Mesh(new Geo(0.4, 0.4, 0.4), new THREE.MeshStandardMaterial());
}
