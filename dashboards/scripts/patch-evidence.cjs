// postinstall: let Evidence's universal-sql run on @duckdb/duckdb-wasm 1.28.0
// (DuckDB 0.9.1, parquet built in, so no extension is ever downloaded; newer duckdb-wasm builds
// fetch the parquet extension from extensions.duckdb.org and hang forever offline).
// The two SET statements below exist only in DuckDB >= 0.10 / >= 1.1 and merely restore
// DuckDB 0.9 behaviour, so on 0.9.1 they are skipped when they fail. The script is idempotent
// and fails loudly when a future universal-sql changes the lines, so an upgrade cannot silently
// drop the patch.
const fs = require('fs');
const path = require('path');

const dir = path.join(
  __dirname, '..', 'node_modules', '@evidence-dev', 'universal-sql', 'src', 'client-duckdb'
);
const stmts = ['SET ieee_floating_point_ops = false;', 'SET old_implicit_casting = true;'];
for (const f of ['browser.js', 'node.js']) {
  const file = path.join(dir, f);
  let src = fs.readFileSync(file, 'utf8');
  for (const s of stmts) {
    const orig = `await connection.query('${s}');`;
    const patched = `try { await connection.query('${s}'); } catch (e) { /* offline-patch: not in DuckDB 0.9 */ }`;
    if (src.includes(patched)) continue;
    if (!src.includes(orig)) throw new Error(`patch-evidence: pattern not found in ${file}: ${orig}`);
    src = src.replace(orig, patched);
  }
  fs.writeFileSync(file, src);
  console.log(`patch-evidence: patched ${f}`);
}

// The pin is the whole point: refuse to continue on any other duckdb-wasm.
const wasmPkg = require(path.join(__dirname, '..', 'node_modules', '@duckdb', 'duckdb-wasm', 'package.json'));
if (wasmPkg.version !== '1.28.0') {
  throw new Error(`patch-evidence: @duckdb/duckdb-wasm is ${wasmPkg.version}, expected 1.28.0 (see package.json overrides)`);
}
