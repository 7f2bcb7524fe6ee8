import { useState, type FormEvent } from "react";
import { AppLink } from "../app/app-link.js";
import type { ServerInfo } from "../app/server-info.js";
import { storeToken } from "../app/session.js";

/** Signs in with a token pasted by hand (a host normally links with `#token=…`). */
export function SignInPage({ info, notice, onSignedIn }: { info: ServerInfo | null; notice: string | null; onSignedIn: () => void }) {
  const [token, setToken] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const value = token.trim();
    if (!value) return;
    storeToken(value);
    onSignedIn();
  };
  return (
    <main className="centered-page">
      <div className="card sign-in">
        <div className="brand brand-large" aria-hidden="true">
          <span className="brand-mark">P</span> Parley
        </div>
        <h1>Sign in</h1>
        {notice && (
          <p className="notice" role="alert">
            {notice}
          </p>
        )}
        <p className="muted">Parley opens from a link your app gives you. You can also paste a token here.</p>
        <form onSubmit={submit} className="stack">
          <label className="field">
            <span>Token</span>
            <textarea value={token} onChange={(e) => setToken(e.target.value)} rows={3} spellCheck={false} autoComplete="off" required />
          </label>
          <button type="submit" className="button primary" disabled={token.trim() === ""}>
            Sign in
          </button>
        </form>
        {info?.dev && (
          <p className="dev-link">
            Dev mode:{" "}
            <AppLink href="/dev/login">sign in as a demo user</AppLink>
          </p>
        )}
        {info?.guests && (
          <p className="dev-link">
            A visitor?{" "}
            <AppLink href="/support">Chat with support</AppLink>
          </p>
        )}
      </div>
    </main>
  );
}
