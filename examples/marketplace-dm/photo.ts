/** An 8×6 PNG, standing in for the photo a customer attaches. */
export const VENUE_PHOTO = Uint8Array.from(
  Buffer.from(
    "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAGCAIAAABxZ0isAAAAXklEQVR42g3JIQEAQQhFQZKgCUEI9Cb5SdCEIMTTJLobO2aGG2k8Q0Yba5xhFniQwQsUdLDBxR+FF1m8QkUXW1z9IVykeEKixYrTH4MPObxBQw873PwBDgkPBA0LBx+zu0vx/4tseAAAAABJRU5ErkJggg==",
    "base64",
  ),
);
