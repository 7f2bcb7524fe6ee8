import { useConnection } from "../hooks/use-connection-status.js";

/** Props of {@link ConnectionBanner}. */
export interface ConnectionBannerProps {
  className?: string;
}

/**
 * A banner while the connection is not usable ("Connecting…",
 * "Reconnecting…", or why it stopped); nothing while connected. Messages
 * sent meanwhile show as pending in the list and go out when it is back.
 */
export function ConnectionBanner({ className }: ConnectionBannerProps) {
  const { status, error } = useConnection();
  if (status === "connected") return null;
  let text: string;
  if (status === "connecting") text = "Connecting…";
  else if (status === "reconnecting") text = "Reconnecting…";
  else if (error?.code === "unauthenticated") text = error.details?.reason === "expired" ? "Your session has expired. Sign in again." : "You are signed out.";
  else text = error ? `Disconnected: ${error.message}` : "Disconnected";
  return (
    <div className={`parley-connection-banner${className ? ` ${className}` : ""}`} role="status" data-status={status}>
      {text}
    </div>
  );
}
