// After `vite build`: fills the service worker's list of files to keep (the shell) and its
// version, then writes a gzip and a brotli copy of every text file of dist/, which the gateway
// sends as they are (gzip_static, and the brotli copy by Accept-Encoding) instead of
// compressing on every request. Node's zlib does both: no other tool is needed.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const dist = new URL("../dist/", import.meta.url).pathname;
const TEXT = /\.(js|css|html|svg|json|webmanifest|txt)$/;

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

const all = files(dist).filter((f) => !/\.(gz|br)$/.test(f));
const assets = all.filter((f) => f.includes("/assets/")).map((f) => `/${relative(dist, f)}`);
const version = createHash("sha256").update(assets.sort().join("\n")).update(readFileSync(join(dist, "index.html"))).digest("hex").slice(0, 12);
const sw = join(dist, "sw.js");
const shell = ["/", "/manifest.webmanifest", "/config.json", "/icon-192.png", ...assets];
writeFileSync(
  sw,
  readFileSync(sw, "utf8")
    .replace(/^const VERSION = .*$/m, `const VERSION = ${JSON.stringify(version)};`)
    .replace(/^const PRECACHE = .*$/m, `const PRECACHE = ${JSON.stringify(shell)};`),
);

let saved = 0;
for (const file of all.filter((f) => TEXT.test(f))) {
  const data = readFileSync(file);
  const gz = gzipSync(data, { level: 9 });
  const br = brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length } });
  writeFileSync(`${file}.gz`, gz);
  writeFileSync(`${file}.br`, br);
  saved += data.length - br.length;
}
console.log(`compressed ${all.filter((f) => TEXT.test(f)).length} files (brotli saves ${Math.round(saved / 1024)} KiB); service worker ${version}`);
