#!/usr/bin/env python3
"""The crate's module import graph and its cycles.

Reads every `src/**/*.rs`, takes each reference to another module of the crate
(`use crate::a::b`, `crate::a::f()` in an expression, `super::`, `self::`, a child
module named in a `use`), and builds the graph of modules at two granularities:
top-level modules (`rules`, `engine`, ...) and every module file (`rules::registry`).
A strongly connected component of more than one module is a cycle: the layers do
not point one way. `mod.rs`/`lib.rs`/`main.rs` declaring their children is not an
edge; a file's inline `mod tests` belongs to the file.

Test code (`#[cfg(test)] mod x { .. }` and `#[cfg(test)] mod x;` files) is left out
by default: like `tests/`, it stands above every layer and may use any of them.

    scripts/import-graph.py               # report; exit 1 on a cycle
    scripts/import-graph.py --edges       # print the edges too
    scripts/import-graph.py --with-tests  # count test code as well
"""
import os
import re
import sys

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def module_of(rel):
    """`rules/registry.rs` -> ('rules', 'registry'); `lib.rs` -> ()."""
    parts = rel[:-3].split(os.sep)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def strip(text):
    """Blank out comments and string/char literals, keeping offsets."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:i + 10]) and (i == 0 or not re.match(r"\w", text[i - 1])):
            m = re.match(r'r(#*)"', text[i:])
            end = text.find('"' + m.group(1), i + len(m.group(0)))
            end = n if end < 0 else end + 1 + len(m.group(1))
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(re.sub(r"[^\n]", " ", text[i:j + 1]))
            i = j + 1
        elif c == "'" and re.match(r"'(\\.[^']*|[^\\'])'", text[i:i + 12]):
            m = re.match(r"'(\\.[^']*|[^\\'])'", text[i:i + 12])
            out.append(" " * len(m.group(0)))
            i += len(m.group(0))
        else:
            out.append(c)
            i += 1
    return "".join(out)


def expand_use(tree):
    """`a::{b, c::{d, e}}` -> [a::b, a::c::d, a::c::e] (as lists of segments)."""
    tree = re.sub(r"\s+as\s+" + IDENT, "", tree)
    tree = re.sub(r"\s+", "", tree)

    def parse(s, i, prefix):
        paths, cur = [], list(prefix)
        seg = ""
        while i < len(s):
            ch = s[i]
            if s.startswith("::", i):
                if seg:
                    cur.append(seg)
                seg = ""
                i += 2
            elif ch == "{":
                if seg:
                    cur.append(seg)
                    seg = ""
                sub, i = parse(s, i + 1, cur)
                paths.extend(sub)
                cur = None
            elif ch == ",":
                if cur is not None:
                    paths.append(cur + ([seg] if seg else []))
                cur, seg = list(prefix), ""
                i += 1
            elif ch == "}":
                if cur is not None:
                    paths.append(cur + ([seg] if seg else []))
                return paths, i + 1
            else:
                seg += ch
                i += 1
        if cur is not None:
            paths.append(cur + ([seg] if seg else []))
        return paths, i

    paths, _ = parse(tree, 0, [])
    return [path for path in paths if path]


def main():
    files = {}
    for root, _, names in os.walk(SRC):
        for name in names:
            if name.endswith(".rs"):
                path = os.path.join(root, name)
                files[module_of(os.path.relpath(path, SRC))] = path
    with_tests = "--with-tests" in sys.argv
    if not with_tests:
        # Files declared `#[cfg(test)] mod x;` are test code.
        for mod, path in list(files.items()):
            text = strip(open(path, encoding="utf-8").read())
            for m in re.finditer(r"#\[cfg\(test\)\]\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s+(" + IDENT + r")\s*;", text):
                files.pop(mod + (m.group(1),), None)
    modules = set(files)
    # A file `a/b.rs` with a directory `a/b/` declares children; every prefix is a module too.
    for m in list(modules):
        for k in range(1, len(m)):
            modules.add(m[:k])

    def resolve(segments):
        """The longest known module that is a prefix of an absolute path."""
        for k in range(len(segments), 0, -1):
            if tuple(segments[:k]) in modules:
                return tuple(segments[:k])
        return None

    edges = {}
    for mod, path in sorted(files.items()):
        if mod == ():
            continue
        text = strip(open(path, encoding="utf-8").read())
        # Inline modules: where `mod x {` opens and the brace depth it closes at.
        inline = []  # (start, end, name)
        for m in re.finditer(r"\bmod\s+(" + IDENT + r")\s*\{", text):
            depth, j = 0, m.end() - 1
            while j < len(text):
                if text[j] == "{":
                    depth += 1
                elif text[j] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            test = re.search(r"#\[cfg\(test\)\]\s*(?:pub(?:\([a-z]+\))?\s+)?$", text[:m.start()])
            inline.append((m.start(), j, m.group(1), bool(test)))

        def scope_at(pos):
            return list(mod) + [name for (s, e, name, _) in inline if s <= pos <= e]

        def in_test(pos):
            return any(t and s <= pos <= e for (s, e, _, t) in inline)

        children = {m[len(mod)] for m in modules if len(m) == len(mod) + 1 and m[:len(mod)] == mod}

        def absolute(segments, pos, in_use):
            scope = scope_at(pos)
            head = segments[0]
            if head == "crate":
                return segments[1:]
            if head in ("super", "self"):
                base = list(scope)
                rest = list(segments)
                while rest and rest[0] in ("super", "self"):
                    if rest[0] == "super":
                        base = base[:-1]
                    rest = rest[1:]
                return base + rest
            if in_use and head in children and len(scope) == len(mod):
                return list(mod) + segments
            return None

        refs = []
        for m in re.finditer(r"\buse\s+([^;]*);", text):
            for p in expand_use(m.group(1)):
                refs.append((p, m.start(), True))
        for m in re.finditer(r"(?<![:\w])((?:crate|super|self)(?:::" + IDENT + r")+)", text):
            refs.append((m.group(1).split("::"), m.start(), False))
        for segs, pos, in_use in refs:
            if not with_tests and in_test(pos):
                continue
            abs_path = absolute(segs, pos, in_use)
            if not abs_path:
                continue
            target = resolve(abs_path)
            if target is None or target == mod:
                continue
            # A parent naming its own child (re-export, `mod.rs` using `child::f`) is an edge too.
            edges.setdefault(mod, set()).add(target)

    def sccs(graph, nodes):
        index, low, on, stack, out = {}, {}, set(), [], []
        counter = [0]
        sys.setrecursionlimit(10000)

        def visit(v):
            index[v] = low[v] = counter[0]
            counter[0] += 1
            stack.append(v)
            on.add(v)
            for w in graph.get(v, ()):
                if w not in index:
                    visit(w)
                    low[v] = min(low[v], low[w])
                elif w in on:
                    low[v] = min(low[v], index[w])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)

        for v in sorted(nodes):
            if v not in index:
                visit(v)
        return [c for c in out if len(c) > 1]

    name = lambda m: "::".join(m) or "crate"
    show_edges = "--edges" in sys.argv
    failed = False
    for label, key in (("top-level modules", lambda m: m[:1]), ("module files", lambda m: m)):
        graph = {}
        nodes = set()
        for a, targets in edges.items():
            for b in targets:
                ka, kb = key(a), key(b)
                if ka and kb and ka != kb:
                    graph.setdefault(ka, set()).add(kb)
                    nodes.update((ka, kb))
        cycles = sccs(graph, nodes)
        largest = max((len(c) for c in cycles), default=0)
        print(f"{label}: {len(nodes)} modules, {sum(len(v) for v in graph.values())} edges, "
              f"{len(cycles)} cycle(s), largest {largest}")
        for c in sorted(cycles, key=len, reverse=True):
            failed = True
            print("  cycle: " + ", ".join(sorted(name(m) for m in c)))
            if show_edges:
                for a in sorted(c):
                    for b in sorted(graph.get(a, ())):
                        if b in c:
                            print(f"    {name(a)} -> {name(b)}")
        if show_edges and not cycles:
            for a in sorted(graph):
                print(f"  {name(a)} -> " + ", ".join(sorted(name(b) for b in graph[a])))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
