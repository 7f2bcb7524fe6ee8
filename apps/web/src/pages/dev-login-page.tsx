import { useEffect, useState } from "react";
import { Avatar } from "@parley/react";
import { AppLink } from "../app/app-link.js";
import { navigate } from "../app/router.js";
import { postJson, type ServerInfo } from "../app/server-info.js";
import { storeToken } from "../app/session.js";

interface DemoUser {
  id: string;
  name: string;
  roles: string[];
  label: string;
  description: string;
}

/** Dev mode: pick one of the demo users and sign in as them. */
export function DevLoginPage({ info, onSignedIn }: { info: ServerInfo | null; onSignedIn: () => void }) {
  const [users, setUsers] = useState<DemoUser[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    fetch("/dev/users")
      .then(async (res) => {
        if (!res.ok) throw new Error(res.status === 404 ? "Dev mode is off on this server." : `The server answered ${res.status}`);
        return ((await res.json()) as { users: DemoUser[] }).users;
      })
      .then(
        (list) => live && setUsers(list),
        (err: Error) => live && setError(err.message),
      );
    return () => {
      live = false;
    };
  }, []);

  const pick = async (user: DemoUser) => {
    setBusy(user.id);
    setError(null);
    try {
      const { token } = await postJson<{ token: string }>("/dev/token", { userId: user.id });
      storeToken(token);
      navigate(user.roles.includes("operator") ? "/desk" : "/", { replace: true });
      onSignedIn();
    } catch (err) {
      setError((err as Error).message);
      setBusy(null);
    }
  };

  return (
    <main className="centered-page">
      <div className="card dev-login">
        <div className="brand brand-large" aria-hidden="true">
          <span className="brand-mark">P</span> Parley
        </div>
        <h1>Demo users</h1>
        <p className="muted">
          Dev mode{info?.version ? ` · Parley ${info.version}` : ""}. Pick someone to sign in as; open another browser window to be
          the other side.
        </p>
        {error && (
          <p className="notice" role="alert">
            {error}
          </p>
        )}
        {users === null && !error && <p className="muted">Loading…</p>}
        {users && (
          <ul className="demo-users">
            {users.map((u) => (
              <li key={u.id}>
                <button
                  type="button"
                  className="demo-user"
                  aria-label={`${u.name} — ${u.label}`}
                  aria-describedby={`demo-${u.id}`}
                  disabled={busy !== null}
                  onClick={() => void pick(u)}
                >
                  <Avatar userId={u.id} name={u.name} size={40} />
                  <span className="demo-user-text">
                    <span className="demo-user-name">
                      {u.name} <span className="tag">{u.label}</span>
                    </span>
                    <span className="demo-user-description" id={`demo-${u.id}`}>
                      {u.description}
                    </span>
                  </span>
                </button>
              </li>
            ))}
          </ul>
        )}
        <p className="dev-link">
          <AppLink href="/">Sign in with a token instead</AppLink>
        </p>
      </div>
    </main>
  );
}
