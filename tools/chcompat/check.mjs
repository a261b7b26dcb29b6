#!/usr/bin/env node
// chcompat: run evcrm's ClickHouse migrations and metric queries on current ClickHouse
// (26.x, embedded through chDB) to prove they work there as well as on Debian's 18.16, which
// the Go tests use. See README.md.
//
//   node check.mjs --migrations DIR [--migrations DIR2 ...] --queries DIR [--queries DIR2 ...]
//                  [--params FILE.json] [--compat VERSION ...|--compat none] [--verbose]
//
// Prints one OK/FAIL line per file and a last line "N passed, N failed"; exits 1 when
// anything failed, 2 on a usage or setup error.

import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const USAGE = `usage: node check.mjs --migrations DIR [--migrations DIR ...] --queries DIR [--queries DIR ...]
                      [--params FILE.json] [--compat VERSION ...|--compat none] [--verbose]

  --migrations DIR  apply every *.sql of DIR in lexical order (repeatable; dirs in the given order)
  --queries DIR     run every *.sql of DIR after all migrations (repeatable)
  --params FILE     JSON object of query parameter values: {"tenant": "t1", ...}; a key naming
                    a query file ("funnel.sql": {...}) holds values for that file only.
                    Parameters not given get a default derived from their type.
  --compat VERSION  also run every query with SET compatibility = 'VERSION' (the setting
                    defaults of that older release, e.g. the old analyzer); repeatable.
                    Default: 24.1, the oldest release production supports. "none" disables.
  --verbose         print errors in full and which parameters got a default from their type`;

// Settings applied with SET at the start of the session. SET fails on a setting this engine
// does not know, so a misspelt or removed name stops the check instead of being ignored (chDB
// silently accepts unknown names given as connection arguments, so these are not given there).
const STRICT_SETTINGS = [
  // chDB's own defaults that a ClickHouse server does not have: undo them.
  ['implicit_select', 0], // chDB runs "1 + 1" as SELECT 1 + 1; a server rejects it
  ['allow_introspection_functions', 0],
  // Server defaults, set explicitly so the check keeps meaning the same thing.
  ['allow_deprecated_syntax_for_merge_tree', 0], // MergeTree(date, key, 8192) is refused
  ['allow_deprecated_database_ordinary', 0],
  ['allow_suspicious_low_cardinality_types', 0],
  ['allow_suspicious_codecs', 0],
  ['allow_suspicious_types_in_group_by', 0],
  ['allow_suspicious_types_in_order_by', 0],
  ['allow_nondeterministic_mutations', 0],
  ['input_format_skip_unknown_fields', 0],
  // Mutations and ALTERs in migrations finish (or fail) before the next statement.
  ['mutations_sync', 2],
  ['alter_sync', 2],
];
// The query passes run as the BI analysts' user does: readonly = 2 (no writes, no DDL;
// settings may still be changed, as Grafana and Metabase do).
const QUERY_SETTINGS = [['readonly', 2], ['max_execution_time', 60]];

function parseArgs(argv) {
  const o = { migrations: [], queries: [], params: null, compat: null, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usageError(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--migrations': o.migrations.push(val()); break;
      case '--queries': o.queries.push(val()); break;
      case '--params': o.params = val(); break;
      case '--compat': {
        const v = val();
        o.compat ??= [];
        if (v !== 'none') o.compat.push(v);
        break;
      }
      case '--verbose': case '-v': o.verbose = true; break;
      case '--help': case '-h': console.log(USAGE); process.exit(0); break;
      default: usageError(`unknown argument ${JSON.stringify(a)}`);
    }
  }
  if (o.migrations.length === 0 && o.queries.length === 0) usageError('give --migrations and/or --queries');
  o.compat ??= ['24.1'];
  for (const v of o.compat) {
    if (!/^\d+\.\d+(\.\d+)*$/.test(v)) usageError(`--compat ${JSON.stringify(v)}: expected a version like 24.1`);
  }
  return o;
}

function usageError(msg) {
  console.error(`chcompat: ${msg}\n${USAGE}`);
  process.exit(2);
}

class SetupError extends Error {}

// A problem with the check itself rather than with a file: reported by main, exit status 2.
function setupError(msg) {
  throw new SetupError(msg);
}

// Every *.sql file directly in dir, in lexical (byte) order, as Go's fs.Glob returns them.
function sqlFiles(dir) {
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    setupError(`${dir}: ${e.code === 'ENOENT' ? 'no such directory' : e.message}`);
  }
  if (!st.isDirectory()) setupError(`${dir}: not a directory`);
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.name.endsWith('.sql') && !d.isDirectory())
    .map((d) => d.name)
    .sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
  if (names.length === 0) console.log(`WARN ${dir}: no *.sql files`);
  return names.map((n) => join(dir, n));
}

// Split a .sql file into statements the way the Go migration runner does:
//   - a line whose first non-blank characters are "--" is a comment and is dropped;
//   - a statement ends at a line whose last non-blank character is ";" (the ";" is dropped);
//   - text after the last such line is a final statement;
//   - a statement that is only blanks and /* */ comments is skipped.
// A ";" anywhere else (mid-line, or followed by a comment on its line) does not split; the
// multi-statement check below catches the case where that leaves two statements in one.
function splitStatements(text) {
  const out = [];
  let cur = [];
  let start = 0;
  const flush = () => {
    let sql = cur.join('\n').trim();
    if (sql.endsWith(';')) sql = sql.slice(0, -1).trimEnd();
    if (sql.replace(/\/\*[\s\S]*?\*\//g, '').trim() !== '') out.push({ sql, line: start });
    cur = [];
  };
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const t = raw.trim();
    if (t.startsWith('--')) return;
    if (cur.length === 0) {
      if (t === '') return;
      start = i + 1;
    }
    cur.push(raw);
    if (t.endsWith(';')) flush();
  });
  if (cur.length > 0) flush();
  return out;
}

// {name:Type} placeholders of a statement (ClickHouse query parameter syntax).
const PARAM_RE = /\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^{}]+?)\s*\}/g;

function placeholders(sql) {
  const m = new Map();
  for (const [, name, type] of sql.matchAll(PARAM_RE)) if (!m.has(name)) m.set(name, type);
  return m;
}

// A value for a parameter nobody gave, derived from its declared type; undefined when the type
// has no obvious default (the engine then reports the parameter as not set).
function defaultFor(type) {
  const t = type.replace(/\s+/g, '');
  const inner = /^(?:Nullable|LowCardinality)\((.*)\)$/.exec(t);
  if (inner) return defaultFor(inner[1]);
  if (/^(?:String|FixedString\(\d+\))$/.test(t)) return '';
  if (/^U?Int(?:8|16|32|64|128|256)$/.test(t) || /^Float(?:32|64)$/.test(t)) return 0;
  if (/^Decimal(?:32|64|128|256)?\(/.test(t) || t === 'Bool') return 0;
  if (/^Date(?:32)?$/.test(t)) return '2026-01-01';
  if (/^DateTime(?:64)?(?:\(.*\))?$/.test(t)) return '2026-01-01 00:00:00';
  if (t === 'UUID') return '00000000-0000-0000-0000-000000000000';
  if (/^Array\(/.test(t)) return [];
  return undefined;
}

function loadParams(file) {
  if (!file) return { global: {}, perFile: {} };
  let obj;
  try {
    obj = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    setupError(`--params ${file}: ${e.message}`);
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    setupError(`--params ${file}: expected a JSON object`);
  }
  const global = {};
  const perFile = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k.endsWith('.sql') && v !== null && typeof v === 'object' && !Array.isArray(v)) perFile[k] = v;
    else global[k] = v;
  }
  return { global, perFile };
}

function paramsFor(sql, file, params) {
  const own = params.perFile[basename(file)] ?? {};
  const out = {};
  const defaulted = [];
  for (const [name, type] of placeholders(sql)) {
    if (Object.hasOwn(own, name)) out[name] = own[name];
    else if (Object.hasOwn(params.global, name)) out[name] = params.global[name];
    else {
      const d = defaultFor(type);
      if (d !== undefined) {
        out[name] = d;
        defaulted.push(`${name}:${type}`);
      }
    }
  }
  return { values: out, defaulted };
}

function sqlString(s) {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function cleanError(e, verbose) {
  let msg = String(e?.message ?? e).replace(/^Query failed: /, '').trim();
  // chDB repeats the code: "Code: 115. DB::Exception: Code: 115. DB::Exception: ..."
  msg = msg.replace(/^(Code: \d+\. DB::Exception: )\1/, '$1');
  if (!verbose) {
    // A syntax error lists every token the parser would have taken: keep the first few.
    msg = msg.replace(/(Expected one of: (?:[^,]*,){4})[^]*$/, '$1 ... (--verbose for all)');
    if (msg.length > 600) msg = `${msg.slice(0, 600)} ... (--verbose for all)`;
  }
  return msg;
}

function firstLine(sql) {
  const l = sql.split('\n').find((x) => x.trim() !== '') ?? '';
  return l.trim().length > 70 ? `${l.trim().slice(0, 70)}...` : l.trim();
}

class Checker {
  constructor(session, verbose) {
    this.s = session;
    this.verbose = verbose;
  }

  set(name, value) {
    const v = typeof value === 'number' ? String(value) : sqlString(value);
    this.s.query(`SET ${name} = ${v}`, 'TSV');
  }

  // The Go runner sends each statement on its own: 18.16's native protocol refuses two in one
  // query, whereas chDB would run both. Parse each statement alone to tell them apart.
  assertSingle(sql) {
    try {
      this.s.query(`SELECT formatQuery(${sqlString(sql)})`, 'TSV');
    } catch (e) {
      if (/Multi-statements are not allowed/.test(String(e?.message))) {
        throw new Error('two statements in one: a ";" must be the last character of its line '
          + '(the Go runner splits there, and ClickHouse takes one statement per query)');
      }
      // Any other parse error is reported when the statement itself runs.
    }
  }

  // Runs every statement of a file in order, stopping at the first error.
  runFile(file, params) {
    const stmts = splitStatements(readFileSync(file, 'utf8'));
    if (stmts.length === 0) return { err: 'no statement in file', n: 0, defaulted: [] };
    const defaulted = [];
    for (const [i, st] of stmts.entries()) {
      try {
        this.assertSingle(st.sql);
        const p = params ? paramsFor(st.sql, file, params) : { values: {}, defaulted: [] };
        defaulted.push(...p.defaulted);
        if (Object.keys(p.values).length > 0) this.s.queryBind(st.sql, p.values, 'Null');
        else this.s.query(st.sql, 'Null');
      } catch (e) {
        const where = stmts.length > 1 ? `statement ${i + 1} (line ${st.line}: ${firstLine(st.sql)}): ` : '';
        return { err: where + cleanError(e, this.verbose), n: stmts.length, defaulted };
      }
    }
    return { err: null, n: stmts.length, defaulted };
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const params = loadParams(opts.params);
  const migrationFiles = opts.migrations.map((d) => ({ dir: d, files: sqlFiles(d) }));
  const queryFiles = opts.queries.flatMap((d) => sqlFiles(d));

  let chdb;
  try {
    chdb = await import('chdb');
  } catch (e) {
    const here = relative(process.cwd(), dirname(fileURLToPath(import.meta.url))) || '.';
    setupError(`cannot load chdb (run "make chcompat-deps", or "npm install --no-save" in ${here}): ${e.message}`);
  }

  const t0 = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'chcompat-'));
  let session;
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const rel = (f) => {
    const r = relative(process.cwd(), f);
    return r && !r.startsWith('..') ? r : f;
  };
  try {
    session = new chdb.Session(dir);
    const c = new Checker(session, opts.verbose);
    const version = session.query('SELECT version()', 'TSV').trim();
    console.log(`chcompat: ClickHouse ${version} (chDB ${chdb.version().chdb}), fresh session in ${dir}`);
    for (const [k, v] of STRICT_SETTINGS) {
      try {
        c.set(k, v);
      } catch (e) {
        setupError(`strict setting ${k} = ${v} refused by ClickHouse ${version}; update STRICT_SETTINGS in check.mjs: ${cleanError(e, true)}`);
      }
    }

    for (const { files } of migrationFiles) {
      let broken = null;
      for (const f of files) {
        if (broken) {
          console.log(`SKIP ${rel(f)}: after the failed ${broken}`);
          skipped++;
          continue;
        }
        const r = c.runFile(f, null);
        if (r.err) {
          console.log(`FAIL ${rel(f)}: ${r.err}`);
          failed++;
          broken = rel(f);
        } else {
          console.log(`OK   ${rel(f)} (${r.n} statement${r.n === 1 ? '' : 's'})`);
          passed++;
        }
      }
    }

    if (queryFiles.length > 0) {
      for (const [k, v] of QUERY_SETTINGS) c.set(k, v);
      // Pass 1 with this engine's defaults, then one pass per --compat version. compatibility
      // only moves the defaults of settings not set explicitly, so it is set last and stays.
      const passes = [{ label: version, compat: null }, ...opts.compat.map((v) => ({ label: `compatibility=${v}`, compat: v }))];
      const results = new Map(queryFiles.map((f) => [f, []]));
      for (const pass of passes) {
        if (pass.compat) c.set('compatibility', pass.compat);
        for (const f of queryFiles) results.get(f).push({ pass, ...c.runFile(f, params) });
      }
      for (const f of queryFiles) {
        const rs = results.get(f);
        const bad = rs.filter((r) => r.err);
        const defaulted = [...new Set(rs.flatMap((r) => r.defaulted))];
        const note = defaulted.length && opts.verbose ? `; defaults for ${defaulted.join(', ')}` : '';
        if (bad.length === 0) {
          console.log(`OK   ${rel(f)} (${passes.map((p) => p.label).join(', ')}${note})`);
          passed++;
        } else {
          // The same error on every pass is printed once.
          const errs = [...new Set(bad.map((r) => r.err))];
          const which = bad.length === rs.length ? 'every pass' : bad.map((r) => r.pass.label).join(', ');
          if (errs.length === 1) console.log(`FAIL ${rel(f)} [${which}]: ${errs[0]}`);
          else {
            console.log(`FAIL ${rel(f)}:`);
            for (const r of bad) console.log(`       [${r.pass.label}] ${r.err}`);
          }
          failed++;
        }
      }
    }
  } finally {
    try {
      session?.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(`chcompat: done in ${secs}s`);
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exitCode = failed + skipped > 0 ? 1 : 0;
}

try {
  await main();
} catch (e) {
  console.error(`chcompat: ${e instanceof SetupError ? e.message : e?.stack ?? e}`);
  process.exitCode = 2;
}
