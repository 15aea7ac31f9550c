/**
 * C spelling of BTF types: `struct task_struct *`, `unsigned int`, `char[16]`, `int (*)(void *, long)`.
 *
 * C declarators read inside-out, so the spelling is built by carrying the declarator text ("*", "[16]", the
 * variable name, ...) down the type chain and wrapping it in parentheses when a pointer meets an array or a
 * function. Type tags are left out: they are annotations for the verifier, not part of the C type.
 */
import { BtfError } from "./error.js";
import type { BtfType, TypeSource } from "./types.js";

const MAX_DEPTH = 512;
/** Bound on visited nodes per spelling: shared function prototypes could otherwise blow up exponentially. */
const MAX_VISITS = 20_000;

/** C spelling of a type; with `declName`, a declaration of that name (`char comm[16]`). */
export function typeToString(src: TypeSource, t: number | BtfType, declName = ""): string {
  const type = typeof t === "number" ? src.type(t) : t;
  const budget = { left: MAX_VISITS };
  if (type.kind === "func") return spell(src, type.type, type.name || declName, 0, budget);
  if (type.kind === "var") return spell(src, type.type, type.name || declName, 0, budget);
  if (type.kind === "datasec") return `SEC("${type.name}")`;
  if (type.kind === "decl_tag") return `__attribute__((btf_decl_tag("${type.name}")))`;
  return spell(src, type.id, declName, 0, budget);
}

function baseName(t: BtfType): string {
  switch (t.kind) {
    case "void": return "void";
    case "struct": case "union": return t.name ? `${t.kind} ${t.name}` : `${t.kind} {...}`;
    case "enum": case "enum64": return t.name ? `enum ${t.name}` : "enum {...}";
    case "fwd": return `${t.fwdKind} ${t.name}`;
    default: return t.name || `<anon ${t.kind} ${t.id}>`;
  }
}

function join(base: string, decl: string): string {
  if (decl === "") return base;
  if (decl[0] === "[") return base + decl;
  return `${base} ${decl}`;
}

function spell(src: TypeSource, id: number, decl: string, depth: number, budget: { left: number }): string {
  if (depth > MAX_DEPTH || --budget.left < 0) throw new BtfError(`type ${id}: declarator nesting too deep`);
  const t = src.type(id);
  switch (t.kind) {
    case "ptr":
      return spell(src, t.type, `*${decl}`, depth + 1, budget);
    case "array": {
      const inner = decl[0] === "*" ? `(${decl})` : decl;
      return spell(src, t.type, `${inner}[${t.nelems}]`, depth + 1, budget);
    }
    case "func_proto": {
      const inner = decl[0] === "*" ? `(${decl})` : decl;
      const params = t.params.map((p) => spell(src, p.type, p.name, depth + 1, budget));
      if (t.variadic) params.push("...");
      const list = params.length ? params.join(", ") : "void";
      return spell(src, t.returnType, `${inner}(${list})`, depth + 1, budget);
    }
    case "const": case "volatile": case "restrict": {
      const target = src.type(t.type);
      if (target.kind === "ptr") {
        // Qualifier on the pointer itself: it sits right of the '*' (char *const p).
        return spell(src, t.type, decl === "" ? t.kind : `${t.kind} ${decl}`, depth + 1, budget);
      }
      return `${t.kind} ${spell(src, t.type, decl, depth + 1, budget)}`;
    }
    case "type_tag":
      return spell(src, t.type, decl, depth + 1, budget);
    case "func": case "var":
      return spell(src, t.type, decl, depth + 1, budget);
    default:
      return join(baseName(t), decl);
  }
}
