// Which checkpoint the learning-dynamics heatmap shows first. Step 0 (initialisation) is the least
// informative: every layer is still far from where it ends. A demo may name its checkpoint
// (public/demo/index.json: "step"); a link names one (#t=); otherwise the middle checkpoint by index
// (with geometrically spaced checkpoints, mid-training: where layers differ most in how far they
// have come), never the first when there is more than one.

let fromLink = false;

/** A link (#t=…) chose the checkpoint: the next bundle keeps it. */
export function setStepFromLink(given: boolean): void {
  fromLink = given;
}

/** Whether a link chose the checkpoint (asked once, when a bundle arrives). */
export function takeStepFromLink(): boolean {
  const given = fromLink;
  fromLink = false;
  return given;
}

/** Index into `steps` (ascending) of the checkpoint to show first; `preferred` is a step number. */
export function informativeStepIndex(steps: readonly number[], preferred?: number | null): number {
  if (preferred !== undefined && preferred !== null) {
    const k = steps.indexOf(preferred);
    if (k >= 0) return k;
  }
  return Math.ceil((steps.length - 1) / 2);
}
