#!/usr/bin/env python3
"""Checks the module graph: every `import` in Sources/<Module>/ and every dependency a
target declares in Package.swift must be allowed by the graph in docs/ARCHITECTURE.md
(the block after the line `<!-- module graph -->`), and the graph must only point down:
a module may name only modules listed above it. No `@_exported import` anywhere.

Graph lines are `Module: Bulwark deps... | external modules...`; `*` allows anything.
System modules (Glibc, Musl, Darwin, Foundation, Dispatch, Synchronization) are always
allowed. Exits 1 and names every violation; prints one line when all is well."""
import os, re, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYSTEM = {"Glibc", "Musl", "Darwin", "Foundation", "Dispatch", "Synchronization"}


def read_graph():
    text = open(os.path.join(ROOT, "docs", "ARCHITECTURE.md")).read()
    m = re.search(r"<!-- module graph -->\s*```[a-z]*\n(.*?)```", text, re.S)
    if not m:
        sys.exit("check-imports: no '<!-- module graph -->' block in docs/ARCHITECTURE.md")
    order, graph = [], {}
    for line in m.group(1).splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        name, _, rest = line.partition(":")
        internal, _, external = rest.partition("|")
        order.append(name.strip())
        graph[name.strip()] = (internal.split(), external.split())
    return order, graph


def targets(manifest):
    """(name, text inside the parentheses) of every non-test target in Package.swift."""
    for m in re.finditer(r"\.(target|executableTarget)\(", manifest):
        depth, i = 1, m.end()
        while depth and i < len(manifest):
            depth += {"(": 1, ")": -1}.get(manifest[i], 0)
            i += 1
        body = manifest[m.end():i - 1]
        name = re.match(r"\s*name:\s*\"([^\"]+)\"", body)
        if name:
            yield name.group(1), body


def main():
    order, graph = read_graph()
    problems = []
    local = set(graph)
    # The graph points down: a module names only modules above it.
    for i, name in enumerate(order):
        internal, _ = graph[name]
        for dep in internal:
            if dep == "*":
                continue
            if dep not in local:
                problems.append(f"graph: {name} names {dep}, which the graph does not list")
            elif order.index(dep) >= i:
                problems.append(f"graph: {name} names {dep}, which is not above it")
    sources = os.path.join(ROOT, "Sources")
    for module in sorted(os.listdir(sources)):
        path = os.path.join(sources, module)
        if not os.path.isdir(path):
            continue
        if module not in graph:
            problems.append(f"Sources/{module}: not in the module graph of docs/ARCHITECTURE.md")
            continue
        internal, external = graph[module]
        allowed = set(internal) | set(external) | SYSTEM
        for base, _, files in os.walk(path):
            for f in sorted(files):
                if not f.endswith(".swift"):
                    continue
                p = os.path.join(base, f)
                for n, line in enumerate(open(p), 1):
                    if re.match(r"\s*@_exported\s+import", line):
                        problems.append(f"{os.path.relpath(p, ROOT)}:{n}: @_exported import")
                    m = re.match(r"\s*(?:@\w+\s+)*import\s+(?:(?:struct|class|enum|func|protocol|typealias)\s+)?([A-Za-z0-9_]+)", line)
                    if m and "*" not in internal and m.group(1) not in allowed:
                        problems.append(f"{os.path.relpath(p, ROOT)}:{n}: {module} must not import {m.group(1)}")
    # Package.swift: the local dependencies each target declares.
    manifest = open(os.path.join(ROOT, "Package.swift")).read()
    for name, body in targets(manifest):
        if name not in graph:
            problems.append(f"Package.swift: target {name} is not in the module graph")
            continue
        internal, _ = graph[name]
        deps = re.search(r"dependencies:\s*\[(.*)\]", body, re.S)
        if not deps or "*" in internal:
            continue
        for dep in re.findall(r"(?<![\w:])\"([A-Za-z0-9_]+)\"", re.sub(r"\.product\([^)]*\)", "", deps.group(1))):
            if dep in local and dep not in internal:
                problems.append(f"Package.swift: {name} depends on {dep}, which the graph does not allow")
    if problems:
        print("\n".join(problems))
        print(f"check-imports: {len(problems)} violation(s) of the module graph (docs/ARCHITECTURE.md)")
        return 1
    print(f"check-imports: {len(order)} modules, every import and dependency within the graph")
    return 0


if __name__ == "__main__":
    sys.exit(main())
