// A small cart: boxes, cylinders and a helper that takes THREE.
function wheel(THREE, x, z) {
  const geo = new THREE.CylinderGeometry(0.08, 0.08, 0.05, 24);
  const mesh = new THREE.Mesh(geo, new THREE.MeshStandardMaterial({ color: 0x222222, roughness: 0.9 }));
  mesh.rotation.x = Math.PI / 2;
  mesh.position.set(x, -0.2, z);
  return mesh;
}

export default function generate(THREE) {
  const root = new THREE.Group();
  const body = new THREE.Mesh(
    new THREE.BoxGeometry(0.7, 0.2, 0.35),
    new THREE.MeshPhysicalMaterial({ color: new THREE.Color(0.8, 0.1, 0.1), metalness: 0.3, roughness: 0.4, clearcoat: 1 }),
  );
  root.add(body);
  for (const [x, z] of [[-0.25, 0.18], [0.25, 0.18], [-0.25, -0.18], [0.25, -0.18]]) root.add(wheel(THREE, x, z));
  return root;
}
