import { CalibrateButton } from './calibration/CalibrateButton.tsx';
import { CalibrationView } from './calibration/CalibrationView.tsx';
import { ComparePanel } from './components/ComparePanel.tsx';
import { DropZone } from './components/DropZone.tsx';
import { FontWarmup } from './components/FontWarmup.tsx';
import { NoticeBar } from './components/NoticeBar.tsx';
import { PackPicker } from './components/PackPicker.tsx';
import { QueuePanel } from './components/QueuePanel.tsx';
import { ResultsGrid } from './components/ResultsGrid.tsx';
import { ResultsToolbar } from './components/ResultsToolbar.tsx';
import { StatusBar } from './components/StatusBar.tsx';

export function App() {
  return (
    <div className="app">
      <header className="app-header">
        <div className="brand">
          <h1>AGQG Grader</h1>
          <p className="tagline">
            Quality and prompt alignment grades for AI-generated images, computed in your browser.
          </p>
        </div>
        <PackPicker />
        <CalibrateButton />
        <StatusBar />
      </header>
      <NoticeBar />
      <main className="app-main">
        <section className="intake" aria-label="Images to grade">
          <DropZone />
          <QueuePanel />
        </section>
        <section className="results" aria-labelledby="results-heading">
          <h2 id="results-heading">Results</h2>
          <ResultsToolbar />
          <ComparePanel />
          <ResultsGrid />
        </section>
      </main>
      <CalibrationView />
      <footer className="app-footer">
        <p>Images never leave this device: the model runs in a web worker on this page.</p>
      </footer>
      <FontWarmup />
    </div>
  );
}
