// The import graph of a source tree, read with TypeScript's parser (already a
// dependency): every specifier of import/export declarations, import() calls,
// import('x').T types and new URL('./x', import.meta.url) module references,
// with whether it is type-only. test/imports.test.ts checks the layers on it.
import { builtinModules } from 'node:module';
import { posix } from 'node:path';
import ts from 'typescript';

export type EdgeKind = 'value' | 'type' | 'url';

export interface ImportEdge {
  spec: string;
  kind: EdgeKind;
  /** The file a relative specifier names (root-relative, posix), else null (a package). */
  target: string | null;
}

const CODE = /\.(ts|tsx|mts|js|mjs)$/;

function scriptKind(file: string): ts.ScriptKind {
  if (file.endsWith('.tsx')) return ts.ScriptKind.TSX;
  if (/\.m?js$/.test(file)) return ts.ScriptKind.JS;
  return ts.ScriptKind.TS;
}

function allTypeOnly(elements: ts.NodeArray<ts.ImportSpecifier | ts.ExportSpecifier>): boolean {
  return elements.length > 0 && elements.every((e) => e.isTypeOnly);
}

/** The specifiers `text` imports, in source order. */
export function specifiersOf(file: string, text: string): { spec: string; kind: EdgeKind }[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, scriptKind(file));
  const out: { spec: string; kind: EdgeKind }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const c = node.importClause;
      const typeOnly =
        !!c &&
        (c.isTypeOnly ||
          (!c.name &&
            !!c.namedBindings &&
            ts.isNamedImports(c.namedBindings) &&
            allTypeOnly(c.namedBindings.elements)));
      out.push({ spec: node.moduleSpecifier.text, kind: typeOnly ? 'type' : 'value' });
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      const e = node.exportClause;
      const typeOnly = node.isTypeOnly || (!!e && ts.isNamedExports(e) && allTypeOnly(e.elements));
      out.push({ spec: node.moduleSpecifier.text, kind: typeOnly ? 'type' : 'value' });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments.length > 0 &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      out.push({ spec: node.arguments[0].text, kind: 'value' });
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      out.push({ spec: node.argument.literal.text, kind: 'type' });
    } else if (
      ts.isNewExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'URL' &&
      node.arguments?.length === 2 &&
      ts.isStringLiteralLike(node.arguments[0]) &&
      node.arguments[0].text.startsWith('.') &&
      node.arguments[1].getText(sf) === 'import.meta.url'
    ) {
      out.push({ spec: node.arguments[0].text, kind: 'url' });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/**
 * The graph of `files` (root-relative posix path -> text; every file of the tree, code or not, so
 * that relative specifiers to data files resolve). Only code files have edges.
 */
export function importGraph(files: ReadonlyMap<string, string>): Map<string, ImportEdge[]> {
  const graph = new Map<string, ImportEdge[]>();
  for (const [file, text] of files) {
    if (!CODE.test(file) || file.endsWith('.d.ts')) continue;
    graph.set(
      file,
      specifiersOf(file, text).map(({ spec, kind }) => ({
        spec,
        kind,
        target: spec.startsWith('.') ? posix.normalize(posix.join(posix.dirname(file), spec)) : null,
      })),
    );
  }
  return graph;
}

/** Each circle of imports (any kind), as the files on it, first file repeated at the end. */
export function importCircles(graph: ReadonlyMap<string, ImportEdge[]>): string[][] {
  // Tarjan's strongly connected components; a component of two or more files (or a file that
  // imports itself) holds a circle, reported through one cycle found in it.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const next = (f: string): string[] =>
    (graph.get(f) ?? []).flatMap((e) => (e.target !== null && graph.has(e.target) ? [e.target] : []));
  const strong = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of next(v)) {
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) !== idx.get(v)) return;
    const comp = new Set<string>();
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      comp.add(w);
    } while (w !== v);
    if (comp.size > 1 || next(v).includes(v)) circles.push(cycleIn(v, comp, next));
  };
  for (const f of [...graph.keys()].sort()) if (!idx.has(f)) strong(f);
  return circles;
}

/** A shortest path from `start` back to itself inside `comp` (breadth first). */
function cycleIn(start: string, comp: ReadonlySet<string>, next: (f: string) => string[]): string[] {
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of next(v)) {
      if (!comp.has(w)) continue;
      if (w === start) {
        const back: string[] = [];
        for (let u = v; u !== start; u = prev.get(u)!) back.unshift(u);
        return [start, ...back, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/** Files reachable from `file` through edges of the given kinds (the file itself excluded). */
export function reachable(
  graph: ReadonlyMap<string, ImportEdge[]>,
  file: string,
  kinds: readonly EdgeKind[],
): Set<string> {
  const seen = new Set<string>();
  const todo = [file];
  while (todo.length > 0) {
    for (const e of graph.get(todo.pop()!) ?? []) {
      if (!kinds.includes(e.kind) || e.target === null || seen.has(e.target)) continue;
      seen.add(e.target);
      todo.push(e.target);
    }
  }
  return seen;
}

/** Names a model folder or root file may import, by folder (`util`) or root file (`errors`). */
export type ModelRules = ReadonlyMap<string, ReadonlySet<string>>;

/** The rules of src/model/README.md: lines "- `util/`, `errors.ts`: what lives there. May import: a, b." */
export function modelRulesFromReadme(md: string): ModelRules {
  const rules = new Map<string, Set<string>>();
  for (const line of md.split('\n')) {
    const m = /^- (.+?): .*May import: ([^.]+)\.\s*$/.exec(line);
    if (!m) continue;
    const allowed = m[2].trim() === 'nothing' ? [] : m[2].split(',').map((s) => s.trim());
    for (const [, name] of m[1].matchAll(/`([\w-]+)(?:\/|\.ts)`/g)) rules.set(name, new Set(allowed));
  }
  return rules;
}

/** Packages that need a DOM (or a page's globals) to load. */
const DOM_ONLY = ['react', 'react-dom', 'idb', 'zustand'];

function packageOf(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const isNodeBuiltin = (spec: string): boolean =>
  spec.startsWith('node:') || builtinModules.includes(packageOf(spec));
const isOnnxRuntime = (spec: string): boolean => packageOf(spec).startsWith('onnxruntime');

/** 'model', 'worker', 'ui', 'cli' for files under src/<area>/, else null. */
function areaOf(file: string): string | null {
  const m = /^src\/(model|worker|ui|cli)\//.exec(file);
  return m ? m[1] : null;
}

/** The folder (or root file) of src/model a file belongs to: 'util', 'errors', ... */
function modelUnit(file: string): string {
  const rest = file.slice('src/model/'.length);
  const slash = rest.indexOf('/');
  return slash >= 0 ? rest.slice(0, slash) : rest.replace(/\.[^.]+$/, '');
}

/**
 * Every import in `graph` that breaks a layer: src/model importing node:, DOM-only or onnxruntime
 * code, a shell, or a folder its README line does not allow; src/worker and src/cli importing each
 * other (or src/ui); src/ui importing onnxruntime, directly or through what it loads at run time.
 * Relative specifiers into src/ must name a file of `files`.
 */
export function layerViolations(
  graph: ReadonlyMap<string, ImportEdge[]>,
  files: ReadonlySet<string>,
  rules: ModelRules,
): string[] {
  const out: string[] = [];
  const loadsOrt = (f: string): boolean =>
    (graph.get(f) ?? []).some((e) => e.kind === 'value' && e.target === null && isOnnxRuntime(e.spec));
  for (const [file, edges] of graph) {
    const area = areaOf(file);
    for (const { spec, kind, target } of edges) {
      const bad = (why: string): void => void out.push(`${file} imports ${spec}: ${why}`);
      // Files outside src/ (build output, the native decoder) are not in `files`.
      // A .js beside its .ts source is the compiled twin (lib/ mirrors src/), loaded only when built.
      const real = (t: string): boolean =>
        files.has(t) || (t.endsWith('.js') && files.has(t.replace(/\.js$/, '.ts')));
      if (target?.startsWith('src/') && !real(target)) bad('no such file');
      const to = target === null ? null : areaOf(target);
      if (area === 'model') {
        if (target === null) {
          if (isNodeBuiltin(spec)) bad('src/model uses no Node module');
          if (DOM_ONLY.includes(packageOf(spec))) bad('src/model uses no DOM-only package');
          if (isOnnxRuntime(spec)) bad('src/model never imports a runtime (scoring/runtime.ts is the seam)');
        } else if (to !== 'model') {
          bad('src/model imports nothing outside src/model');
        } else {
          if (/\.(tsx|css)$/.test(target)) bad('src/model has no DOM code');
          const from = modelUnit(file);
          const unit = modelUnit(target);
          const allowed = rules.get(from);
          if (!allowed) bad(`src/model/README.md has no line for ${from}`);
          else if (unit !== from && !allowed.has(unit))
            bad(`${from} may not import ${unit} (src/model/README.md)`);
        }
      }
      if (area === 'worker' && (to === 'cli' || to === 'ui')) bad(`src/worker never imports src/${to}`);
      if (area === 'cli' && (to === 'worker' || to === 'ui')) bad(`src/cli never imports src/${to}`);
      if (area === 'ui' && target === null && isOnnxRuntime(spec)) bad('src/ui never touches onnxruntime');
      if (area === 'ui' && kind === 'value' && target !== null && areaOf(target) !== 'ui') {
        const via = [target, ...reachable(graph, target, ['value'])].find(loadsOrt);
        if (via) bad(`src/ui never touches onnxruntime, but ${via} loads it`);
      }
    }
  }
  return out;
}
