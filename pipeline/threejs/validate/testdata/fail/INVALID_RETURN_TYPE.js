export default function generate(THREE) {
  const o = new THREE.Object3D();
  o.add(new THREE.Mesh(new THREE.BoxGeometry(0.4, 0.4, 0.4), new THREE.MeshStandardMaterial()));
  return o;
}
