import { useCallback, useState } from "react";
import { SignedInApp } from "../chat/signed-in-app.js";
import { DevLoginPage } from "../pages/dev-login-page.js";
import { SignInPage } from "../pages/sign-in-page.js";
import { SupportPage } from "../pages/support-page.js";
import { AppLink } from "./app-link.js";
import { navigate, useRoute } from "./router.js";
import { useServerInfo } from "./server-info.js";
import { forgetToken, storedToken } from "./session.js";

/** The Parley web app: picks the page for the address and who is signed in. */
export function App() {
  const route = useRoute();
  const info = useServerInfo();
  const [token, setToken] = useState(() => storedToken());
  const [notice, setNotice] = useState<string | null>(null);
  const signedIn = useCallback(() => {
    setNotice(null);
    setToken(storedToken());
  }, []);
  const signOut = useCallback((why: string | null) => {
    forgetToken();
    setToken(null);
    setNotice(why);
    navigate("/", { replace: true });
  }, []);

  if (route.page === "support") return <SupportPage info={info} />;
  if (route.page === "dev-login") return <DevLoginPage info={info} onSignedIn={signedIn} />;
  if (route.page === "not-found") {
    return (
      <main className="centered-page">
        <div className="card">
          <h1>Page not found</h1>
          <p>
            <AppLink href="/">Go to your inbox</AppLink>
          </p>
        </div>
      </main>
    );
  }
  if (!token) return <SignInPage info={info} notice={notice} onSignedIn={signedIn} />;
  return <SignedInApp key={token} token={token} route={route} onSignOut={signOut} />;
}
