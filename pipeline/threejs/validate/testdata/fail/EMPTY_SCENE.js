export default function generate(THREE) {
  const g = new THREE.Group();
  g.add(new THREE.Group());
  return g;
}
