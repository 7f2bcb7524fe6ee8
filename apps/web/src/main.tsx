import { createRoot } from "react-dom/client";
import { App } from "./app/app.js";
import { takeTokenFromFragment } from "./app/session.js";
import "./styles.css";

// Before anything renders: a `#token=…` link signs in and leaves the address bar clean.
takeTokenFromFragment();

createRoot(document.getElementById("root")!).render(<App />);
