export default function generate(THREE) {
  let x = 0;
  for (;;) x = (x + 1) % 7;
}
