export default function generate(THREE) {
  const curve = new THREE.TorusKnotCurve();
  return new THREE.Mesh(new THREE.TubeGeometry(curve, 64, 0.02, 8), new THREE.MeshStandardMaterial());
}
