let context: AudioContext | null = null;
let waitingForGesture = false;

function audioContext(): AudioContext | null {
  if (context) return context;
  const Ctor = window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
  if (!Ctor) return null;
  context = new Ctor();
  return context;
}

/** A browser that blocked sound lets it play after the user's next click or key: resume then. */
function resumeOnNextGesture(): void {
  if (waitingForGesture) return;
  waitingForGesture = true;
  const resume = () => {
    waitingForGesture = false;
    window.removeEventListener("pointerdown", resume, true);
    window.removeEventListener("keydown", resume, true);
    void context?.resume().catch(() => undefined);
  };
  window.addEventListener("pointerdown", resume, true);
  window.addEventListener("keydown", resume, true);
}

/** Gets sound ready while the user interacts, so later beeps are allowed. */
export function unlockSound(): void {
  const ctx = audioContext();
  if (ctx && ctx.state === "suspended") void ctx.resume().catch(() => resumeOnNextGesture());
}

/** A short two-tone chime for a new message; if the browser blocks it, sound comes back on the next click. */
export function beep(): void {
  const ctx = audioContext();
  if (!ctx) return;
  if (ctx.state !== "running") {
    // Blocked until the user interacts: this chime may be lost, the next ones are not.
    void ctx.resume().catch(() => undefined);
    resumeOnNextGesture();
  }
  const start = ctx.currentTime + 0.01;
  const gain = ctx.createGain();
  gain.connect(ctx.destination);
  gain.gain.setValueAtTime(0.0001, start);
  gain.gain.exponentialRampToValueAtTime(0.15, start + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.35);
  for (const [freq, at] of [
    [880, 0],
    [1320, 0.09],
  ] as const) {
    const osc = ctx.createOscillator();
    osc.type = "sine";
    osc.frequency.setValueAtTime(freq, start + at);
    osc.connect(gain);
    osc.start(start + at);
    osc.stop(start + 0.36);
  }
}
