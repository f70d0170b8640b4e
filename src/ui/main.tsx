import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { installDebugGlobals } from './debug.ts';
import { init } from './packs.ts';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  // Registered from the site root so its scope covers the page, the worker, ort/ and models/.
  navigator.serviceWorker.register(`${import.meta.env.BASE_URL}sw.js`).catch((err: unknown) => {
    console.warn('service worker registration failed; the page works but not offline', err);
  });
}

installDebugGlobals();
void init();
