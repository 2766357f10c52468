/**
 * Before a child imports an arch module, freeze what the module could patch
 * to fake a pass: every class and object that ptlab's packages export (their
 * prototypes included), and the prototypes of the built-ins the engine leans
 * on. In strict code (every ES module) a patch then throws at the line that
 * tries it; `snapshot()`/`changes()` catch anything that slipped past anyway.
 */

const GeneratorFunction = Object.getPrototypeOf(function* () {}).constructor as {
  prototype: object;
};
const generatorProto = GeneratorFunction.prototype as { prototype: object };

/** Built-ins frozen in every child (constructor and prototype). */
const BUILTINS: readonly object[] = [
  Object,
  Object.prototype,
  Array,
  Array.prototype,
  Function,
  Function.prototype,
  Map,
  Map.prototype,
  Set,
  Set.prototype,
  WeakMap.prototype,
  WeakSet.prototype,
  Promise,
  Promise.prototype,
  String.prototype,
  Number.prototype,
  Boolean.prototype,
  Symbol.prototype,
  RegExp.prototype,
  generatorProto,
  generatorProto.prototype,
  Object.getPrototypeOf(generatorProto.prototype) as object, // %IteratorPrototype%
  Object.getPrototypeOf([][Symbol.iterator]()) as object, // %ArrayIteratorPrototype%
  Object.getPrototypeOf(new Map().entries()) as object,
  Object.getPrototypeOf(new Set().values()) as object,
  JSON,
  Reflect,
  Math,
];

export interface Protected {
  readonly name: string;
  readonly target: object;
}

/**
 * ptlab's classes (with their prototypes and parent classes) and its plain
 * data (config objects, catalogues, arrays), reachable from `root`, named by
 * path. Instances of other classes (zod schemas, Maps) are left alone: they
 * may cache state lazily, and patching them fakes nothing a port could not
 * fake in its own code.
 */
function reachable(root: unknown, name: string, out: Map<object, string>): void {
  if ((typeof root !== 'object' && typeof root !== 'function') || root === null) return;
  if (out.has(root) || BUILTIN_SET.has(root)) return;
  const proto = Object.getPrototypeOf(root) as unknown;
  if (
    typeof root === 'object' &&
    !Array.isArray(root) &&
    proto !== Object.prototype &&
    proto !== null
  )
    return;
  out.set(root, name);
  for (const key of Reflect.ownKeys(root)) {
    const d = Object.getOwnPropertyDescriptor(root, key);
    if (!d || !('value' in d)) continue;
    const v = d.value as unknown;
    // A class's prototype object holds its methods: freeze it as well.
    if (typeof root === 'function' && key === 'prototype' && typeof v === 'object' && v !== null) {
      if (!out.has(v) && !BUILTIN_SET.has(v)) {
        out.set(v, `${name}.prototype`);
        for (const k of Reflect.ownKeys(v)) {
          const m = Object.getOwnPropertyDescriptor(v, k);
          if (m && 'value' in m) reachable(m.value, `${name}.prototype.${String(k)}`, out);
        }
      }
      continue;
    }
    reachable(v, `${name}.${String(key)}`, out);
  }
  if (typeof root === 'function') reachable(proto, `${name}.[[Prototype]]`, out);
}
const BUILTIN_SET = new Set<object>([...BUILTINS, Error.prototype, Error]);

/**
 * Freeze the built-ins and every object reachable from the given module
 * namespaces (name → namespace). Returns what was frozen, for `snapshot()`.
 */
export function freezeAll(namespaces: Readonly<Record<string, object>>): Protected[] {
  const objs = new Map<object, string>();
  for (const [name, ns] of Object.entries(namespaces))
    for (const key of Object.keys(ns))
      reachable((ns as Record<string, unknown>)[key], `${name}.${key}`, objs);
  const out: Protected[] = BUILTINS.map((target) => ({ name: builtinName(target), target }));
  for (const [target, name] of objs) out.push({ name, target });
  for (const { target } of out) Object.freeze(target);
  return out;
}

function builtinName(o: object): string {
  if (o === generatorProto) return '%GeneratorFunction.prototype%';
  if (o === generatorProto.prototype) return '%GeneratorPrototype%';
  for (const n of ['Object', 'Array', 'Function', 'Map', 'Set', 'WeakMap', 'WeakSet', 'Promise'])
    if (o === (globalThis as Record<string, unknown>)[n]) return n;
  const ctor = Object.getOwnPropertyDescriptor(o, 'constructor')?.value as
    | { name?: string }
    | undefined;
  if (typeof ctor === 'function' && ctor.name) return `${ctor.name}.prototype`;
  if (o === JSON) return 'JSON';
  if (o === Reflect) return 'Reflect';
  if (o === Math) return 'Math';
  return Object.prototype.toString.call(o);
}

export type Snapshot = ReadonlyMap<Protected, readonly (string | symbol)[]>;

/** The own property keys of each protected object, to compare against later. */
export function snapshot(list: readonly Protected[]): Snapshot {
  return new Map(list.map((p) => [p, Reflect.ownKeys(p.target)]));
}

/** "X.prototype.foo" for every property added or removed since the snapshot, or a lost freeze. */
export function changes(before: Snapshot): string[] {
  const out: string[] = [];
  for (const [p, keys] of before) {
    const now = Reflect.ownKeys(p.target);
    const was = new Set(keys);
    for (const k of now) if (!was.has(k)) out.push(`${p.name}.${String(k)} (added)`);
    const is = new Set(now);
    for (const k of keys) if (!is.has(k)) out.push(`${p.name}.${String(k)} (removed)`);
    if (!Object.isFrozen(p.target)) out.push(`${p.name} (no longer frozen)`);
  }
  return out;
}
