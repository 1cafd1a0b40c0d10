'use strict';
// The main script of a `bootstrap` built with --snapshot (src/build/snapshot/snapshot.ts):
// a Node single executable application whose sea-config says useSnapshot, so
// this file runs once, at build time, inside the target's own Node, as V8's
// snapshot builder; what it leaves in the heap is the startup snapshot.
//
// At build time it evaluates the vendor bundle (every package the function
// imports from node_modules, as one CommonJS file) and keeps each imported
// module in globalThis[Symbol.for('lambda-kit.snapshot')], keyed by its path
// in the project; index.mjs reads them from there instead of evaluating them
// again. At start, Node deserialises that heap and calls main() below, which
// does what bootstrap-launcher.cjs does (keep the two alike) but for the code
// cache, which a --snapshot build never has: import $LAMBDA_TASK_ROOT/index.mjs,
// or the local emulator, or say what this is.
//
// Build-time inputs (environment): LAMBDA_KIT_SNAPSHOT_VENDOR (the vendor
// bundle), LAMBDA_KIT_SNAPSHOT_SHAPES (the shapes of the lazy built-ins, made
// by the same Node in another process); outputs: LAMBDA_KIT_SNAPSHOT_EXPORTS
// (where to write each module's own property names, for index.mjs's stand-ins) and
// LAMBDA_KIT_SNAPSHOT_BUILTINS (the built-ins the heap holds, as a JSON array). The SEA's main script is a stub
// (SNAPSHOT_MAIN in snapshot-node.ts) that evaluates this file under the name
// lambda-kit:snapshot/launcher.cjs, not the build directory's path. Failures are reported on stderr as one
// line `LAMBDA_KIT_SNAPSHOT_ERROR {json}` for the kit to turn into a KitError.
const v8 = require('node:v8');
const { isBuiltin } = process.getBuiltinModule('node:module');

const TABLE = Symbol.for('lambda-kit.snapshot');
/** The names stack traces give the snapshot's code: the packages, and this file. */
const VENDOR_URL = 'lambda-kit:snapshot/packages.cjs';
const ERROR_PREFIX = 'LAMBDA_KIT_SNAPSHOT_ERROR ';
const building = () => v8.startupSnapshot.isBuildingSnapshot();
const builtin = (id) => process.getBuiltinModule(id.startsWith('node:') ? id : `node:${id}`);

// --- Built-ins Node 24 cannot hold in a snapshot ---------------------------------------
// Loading any of these while building crashes V8 ("global handle not
// serialized"). The vendor code gets a stand-in instead: its keys, and the
// values that are plain data (constants, METHODS, STATUS_CODES, ...), come from
// the module's shape, made beforehand by the same Node in another process;
// functions are stand-ins that call the real function, loaded on first use
// after the start. Only calling one while building fails (with a clear error).
const LAZY = new Set(['http', 'https', 'http2', 'tls', 'repl', 'sqlite',
  '_http_client', '_http_common', '_http_outgoing', '_http_server', '_tls_common', '_tls_wrap']);
// Read while building only; dropped before the heap is serialised (the stand-ins never look at it again).
let shapes = {};
const lazyModules = new Map();

function lazyBuiltin(name) {
  let module = lazyModules.get(name);
  if (module) return module;
  if (!shapes[name]) throw new Error(`node:${name} has no shape: the kit's list of lazy built-ins and its shapes disagree`);
  const shape = () => shapes[name];
  let real;
  const load = (why) => {
    if (real) return real;
    if (building()) {
      throw new Error(`it uses node:${name} (${why}) while loading, and Node cannot keep node:${name} in a startup snapshot`);
    }
    return (real = builtin(name));
  };
  const stubs = new Map();
  const value = (key) => {
    if (real || !building()) return load()[key];
    const entry = Object.hasOwn(shape(), key) ? shape()[key] : undefined;
    if (!entry) return undefined;
    if (entry[0] === 'data') return entry[1];
    if (entry[0] === 'function') {
      // A stand-in that forwards to the real function: referencing it while building is fine, calling it is not.
      let stub = stubs.get(key);
      if (!stub) {
        const target = (why) => load(why)[key];
        stub = new Proxy(function () {}, {
          apply: (_, self, args) => Reflect.apply(target(`${key}()`), self, args),
          construct: (_, args, newTarget) => Reflect.construct(target(`new ${key}`), args, newTarget === stub ? target() : newTarget),
          get: (_, property) => target(`${key}.${String(property)}`)[property],
          has: (_, property) => property in target(`${key}.${String(property)}`),
        });
        stubs.set(key, stub);
      }
      return stub;
    }
    return load(key);
  };
  module = new Proxy(Object.create(null), {
    get: (_, key) => (typeof key === 'string' ? value(key) : real || !building() ? load()[key] : undefined),
    has: (_, key) => (real || !building() ? key in load() : Object.hasOwn(shape(), key)),
    ownKeys: () => (real || !building() ? Reflect.ownKeys(load()) : Object.keys(shape())),
    // An accessor, so that copying the module's properties (esbuild's __toESM) reads nothing yet.
    getOwnPropertyDescriptor: (_, key) => {
      if (real || !building()) {
        const descriptor = Reflect.getOwnPropertyDescriptor(load(), key);
        return descriptor && { enumerable: descriptor.enumerable, configurable: true, get: () => load()[key] };
      }
      return Object.hasOwn(shape(), key) ? { enumerable: shape()[key][2] !== false, configurable: true, get: () => value(key) } : undefined;
    },
    set: (_, key, newValue) => {
      load(`setting ${String(key)}`)[key] = newValue;
      return true;
    },
    defineProperty: (_, key, descriptor) => Reflect.defineProperty(load(`defining ${String(key)}`), key, descriptor),
    deleteProperty: (_, key) => Reflect.deleteProperty(load(`deleting ${String(key)}`), key),
  });
  lazyModules.set(name, module);
  return module;
}

function vendorRequire(id) {
  if (isBuiltin(id)) {
    const name = id.replace(/^node:/, '');
    return LAZY.has(name) ? lazyBuiltin(name) : builtin(id);
  }
  if (building()) {
    throw new Error(`it requires "${id}" while loading, which is not in the snapshot (an external package?)`);
  }
  // After the start: externals and anything else from the task root, as index.mjs would find them.
  const { join } = builtin('node:path');
  return builtin('node:module').createRequire(join(process.env.LAMBDA_TASK_ROOT || process.cwd(), 'index.mjs'))(id);
}

// --- Randomness ---------------------------------------------------------------------------
// V8 reseeds Math.random after deserialising, but node:crypto keeps pools of
// random bytes in its module state: a randomUUID() or randomInt() while
// building would leave a pool in the snapshot, and every start would draw the
// same values from it. While building they draw unpooled bytes instead. The
// guards go in when the packages first reach node:crypto or the crypto global:
// loading either into a snapshot that does not need it slows every start.
const RAND_MAX = 0xffff_ffff_ffff;
let guardedCrypto = false;
let guardedWebCrypto = false;
const realGetBuiltinModule = process.getBuiltinModule;

function guardCrypto() {
  if (guardedCrypto) return;
  guardedCrypto = true;
  const crypto = realGetBuiltinModule('node:crypto');
  const realRandomUUID = crypto.randomUUID;
  const realRandomInt = crypto.randomInt;
  function randomUUID(options) {
    if (!building()) return realRandomUUID(options);
    return realRandomUUID({ ...(typeof options === 'object' ? options : {}), disableEntropyCache: true });
  }
  function randomInt(min, max, callback) {
    if (!building()) return Reflect.apply(realRandomInt, this, arguments);
    if (typeof max === 'undefined' || typeof max === 'function') [callback, max, min] = [max, min, 0];
    const valid = Number.isSafeInteger(min) && Number.isSafeInteger(max) && max > min && max - min <= RAND_MAX;
    // Invalid arguments: the real one throws its own error before it touches its pool.
    if (!valid || (callback !== undefined && typeof callback !== 'function')) return Reflect.apply(realRandomInt, this, arguments);
    const range = max - min;
    const limit = RAND_MAX - (RAND_MAX % range);
    let x;
    do x = crypto.randomBytes(6).readUIntBE(0, 6);
    while (x >= limit);
    if (callback === undefined) return (x % range) + min;
    process.nextTick(callback, undefined, (x % range) + min);
  }
  crypto.randomUUID = randomUUID;
  crypto.randomInt = randomInt;
  // Once built, the module's own functions again (code that kept ours calls them through a test).
  v8.startupSnapshot.addSerializeCallback(() => {
    crypto.randomUUID = realRandomUUID;
    crypto.randomInt = realRandomInt;
  });
}

function guardWebCrypto(instance) {
  if (guardedWebCrypto || !instance) return;
  guardedWebCrypto = true;
  guardCrypto();
  const { randomUUID: pooledRandomUUID } = realGetBuiltinModule('node:crypto');
  const prototype = Object.getPrototypeOf(instance);
  const realWebRandomUUID = prototype.randomUUID;
  prototype.randomUUID = function randomUUID() {
    return building() ? pooledRandomUUID({ disableEntropyCache: true }) : Reflect.apply(realWebRandomUUID, this, []);
  };
  v8.startupSnapshot.addSerializeCallback(() => {
    prototype.randomUUID = realWebRandomUUID;
  });
}

function guardRandomness() {
  // require('crypto') from the packages goes through builtin(), process.getBuiltinModule too.
  process.getBuiltinModule = function getBuiltinModule(id) {
    const module = Reflect.apply(realGetBuiltinModule, this, arguments);
    if (building() && (id === 'crypto' || id === 'node:crypto')) guardCrypto();
    return module;
  };
  // Node's lazy crypto global, wrapped.
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
  if (descriptor?.get) {
    Object.defineProperty(globalThis, 'crypto', {
      ...descriptor,
      get() {
        const value = Reflect.apply(descriptor.get, this, []);
        if (building()) guardWebCrypto(value);
        return value;
      },
    });
  } else if (descriptor) {
    guardWebCrypto(descriptor.value);
  }
  v8.startupSnapshot.addSerializeCallback(() => {
    process.getBuiltinModule = realGetBuiltinModule;
    if (descriptor?.get) Object.defineProperty(globalThis, 'crypto', descriptor);
  });
}

// --- Build time ---------------------------------------------------------------------------
function fail(details) {
  process.stderr.write(`${ERROR_PREFIX}${JSON.stringify(details)}\n`);
  process.exit(70);
}

// Timers: V8 takes the snapshot once the event loop is empty, so a ref'd timer
// left by a package would keep the build waiting for ever, and an unref'd one
// ends up in the snapshot's timer lists, where it breaks every timer after the
// start (seen with Node 24: a setTimeout in the function never fires). Timers
// made while loading are noted with the package that made them; any still
// pending when the snapshot is taken fail the build, naming it.
function trackTimers(current) {
  const timers = builtin('node:timers');
  const made = [];
  const real = { setTimeout: globalThis.setTimeout, setInterval: globalThis.setInterval };
  for (const name of ['setTimeout', 'setInterval']) {
    const wrapped = {
      [name](...args) {
        const timer = Reflect.apply(real[name], this, args);
        if (building()) made.push({ timer, package: current(), kind: name });
        return timer;
      },
    }[name];
    globalThis[name] = wrapped;
    timers[name] = wrapped;
  }
  const pending = () => made.filter(({ timer }) => !timer._destroyed);
  const restore = () => {
    for (const name of ['setTimeout', 'setInterval']) {
      globalThis[name] = real[name];
      timers[name] = real[name];
    }
  };
  return { pending, restore, real };
}

function describeTimers(list) {
  const byPackage = new Map();
  for (const { package: name, kind } of list) byPackage.set(name, [...(byPackage.get(name) ?? []), kind]);
  return [...byPackage].map(([name, kinds]) => `${name} (${kinds.join(', ')})`).join(', ');
}

function build() {
  const fs = require('node:fs');
  shapes = JSON.parse(fs.readFileSync(process.env.LAMBDA_KIT_SNAPSHOT_SHAPES, 'utf8'));
  const source = fs.readFileSync(process.env.LAMBDA_KIT_SNAPSHOT_VENDOR, 'utf8');
  guardRandomness();
  let loading = 'lambda-kit';
  const timers = trackTimers(() => loading);
  const table = Object.create(null);
  const resources = () => process.getActiveResourcesInfo().filter((kind) => kind !== 'TTYWrap' && kind !== 'FSReqCallback');
  const leftRunning = [];
  // The vendor bundle calls load(key, package, () => require(...)) for each module index.mjs imports.
  const load = (key, packageName, evaluate) => {
    loading = packageName;
    const before = resources();
    try {
      table[key] = evaluate();
    } catch (error) {
      fail({ package: packageName, key, message: String(error && error.message), stack: String(error && error.stack) });
    }
    const after = resources();
    if (after.length > before.length) leftRunning.push({ package: packageName, kinds: after.slice(before.length) });
    loading = 'lambda-kit';
  };
  const module = { exports: {} };
  // Named, so that stack traces through the packages say where they are (not the build machine's paths).
  const evaluate = new Function('require', 'module', 'exports', '__lambdaKitSnapshotLoad', `${source}\n//# sourceURL=${VENDOR_URL}`);
  evaluate(vendorRequire, module, module.exports, load);
  globalThis[TABLE] = table;
  // Each module's own property names, for the kit to give index.mjs stand-ins that export them by name
  // (snapshot-bundle.ts): a CommonJS module's named imports then cost no copy of its exports at start.
  if (process.env.LAMBDA_KIT_SNAPSHOT_EXPORTS) {
    const names = {};
    for (const key of Object.keys(table)) {
      const value = table[key];
      if ((typeof value === 'object' && value !== null) || typeof value === 'function') names[key] = Object.getOwnPropertyNames(value);
    }
    fs.writeFileSync(process.env.LAMBDA_KIT_SNAPSHOT_EXPORTS, JSON.stringify(names));
  }
  // What every start loads anyway, loaded here so that it comes with the snapshot (see bench/README.md):
  // node:net (the runtime loop's Runtime API client) and the performance global (the SDK's and others'
  // timers). Not source map support: index.mjs maps its own stack traces, when one is first formatted
  // (runtime/loop/source-maps.ts).
  builtin('node:net');
  globalThis.performance.now();

  // Something keeps the event loop alive (a timer, a socket): the snapshot would never be taken.
  const waitMs = 20_000;
  const watchdog = timers.real.setTimeout(() => {
    const running = new Map();
    for (const { package: name, kinds } of leftRunning) running.set(name, new Set([...(running.get(name) ?? []), ...kinds]));
    for (const { package: name, kind } of timers.pending()) running.set(name, new Set([...(running.get(name) ?? []), kind]));
    fail({
      message: `the event loop was still busy ${waitMs / 1000} s after the packages were loaded` +
        (running.size ? `: ${[...running].map(([name, kinds]) => `${name} (${[...kinds].join(', ')})`).join(', ')} left something running` : ''),
      packages: [...running.keys()],
    });
  }, waitMs);
  watchdog.unref();
  v8.startupSnapshot.addSerializeCallback(() => {
    clearTimeout(watchdog);
    shapes = null;
    timers.restore();
    const pending = timers.pending();
    if (pending.length > 0) {
      fail({
        message: `${describeTimers(pending)} left a timer pending while loading, which a startup snapshot cannot hold`,
        packages: [...new Set(pending.map((timer) => timer.package))],
      });
    }
  });
  // The built-ins the heap now holds, last of all: their code caches are of no use to a start, which
  // never compiles them again, and the kit drops them from the snapshot (snapshot-code-cache.ts).
  if (process.env.LAMBDA_KIT_SNAPSHOT_BUILTINS) {
    const path = process.env.LAMBDA_KIT_SNAPSHOT_BUILTINS;
    v8.startupSnapshot.addSerializeCallback(() => {
      const loaded = process.moduleLoadList.filter((line) => line.startsWith('NativeModule ')).map((line) => line.slice('NativeModule '.length));
      fs.writeFileSync(path, JSON.stringify(loaded));
    });
  }
  v8.startupSnapshot.setDeserializeMainFunction(main);
}

// --- Start (after deserialisation): as bootstrap-launcher.cjs ------------------------------
function main() {
  const { join, dirname } = builtin('node:path');
  const fs = builtin('node:fs');
  if (process.env.AWS_LAMBDA_RUNTIME_API) {
    const taskRoot = process.env.LAMBDA_TASK_ROOT || '/var/task';
    // import() from code compiled while building has no loader to go to; a module compiled now has.
    run(importer(join(taskRoot, '.lambda-kit', 'start.cjs')), join(taskRoot, 'index.mjs'));
  } else {
    const emulator = join(dirname(process.execPath), '.lambda-kit', 'local-emulator.mjs');
    if (fs.existsSync(emulator)) {
      run(importer(join(dirname(emulator), 'start.cjs')), emulator);
    } else {
      process.stderr.write(
        'AWS_LAMBDA_RUNTIME_API is not set: this is a Lambda bootstrap; run it under Lambda or `lambda-kit emulate`\n',
      );
      process.exitCode = 1;
    }
  }
}

/** A function that calls import(), compiled as a CommonJS module (never on disk) of the given name. */
function importer(filename) {
  const Module = builtin('node:module');
  const module = new Module(filename);
  module.filename = filename;
  module.paths = [];
  module._compile('module.exports = (url) => import(url);', filename);
  return module.exports;
}

function run(start, file) {
  start(builtin('node:url').pathToFileURL(file).href).catch((error) => {
    console.error(error);
    process.exit(1);
  });
}

// --- Shapes (a plain run of this file, by the kit, before the build) --------------------
// Each key of each lazy built-in: ['data', value] for plain data (copied into
// the stand-in), ['function'] or ['live'] (read from the real module), and
// whether it is enumerable.
function printShapes() {
  const plain = (value, depth = 0) => {
    if (value === null || typeof value === 'boolean' || typeof value === 'string') return true;
    if (typeof value === 'number') return Number.isFinite(value);
    if (depth > 8 || typeof value !== 'object') return false;
    if (Array.isArray(value)) return value.every((item) => plain(item, depth + 1));
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return false;
    return Object.getOwnPropertySymbols(value).length === 0 && Object.values(value).every((item) => plain(item, depth + 1));
  };
  const out = {};
  for (const name of LAZY) {
    const module = builtin(name);
    const shape = {};
    for (const key of Object.getOwnPropertyNames(module)) {
      const { enumerable } = Object.getOwnPropertyDescriptor(module, key);
      const value = module[key];
      shape[key] = typeof value === 'function' ? ['function', null, enumerable] : plain(value) ? ['data', value, enumerable] : ['live', null, enumerable];
    }
    out[name] = shape;
  }
  process.stdout.write(JSON.stringify(out));
}

if (building()) build();
else if (process.argv.includes('--shapes')) printShapes();
else {
  process.stderr.write('snapshot-launcher.cjs is the build script of a --snapshot bootstrap; lambda-kit runs it\n');
  process.exitCode = 1;
}
