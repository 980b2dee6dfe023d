/** Comparing the simulator's outputs with the reference executor's, image by image. */

/** Images whose output rows differ. */
export function differingImages(a: Int32Array, b: Int32Array, classes: number): number[] {
  const out: number[] = [];
  for (let i = 0; i * classes < a.length; i++) {
    for (let c = 0; c < classes; c++) {
      if (a[i * classes + c] !== b[i * classes + c]) {
        out.push(i);
        break;
      }
    }
  }
  return out;
}
